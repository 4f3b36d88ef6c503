"""The clinic's copies of a case that must leave its group, from the moment the case goes.

A case's album, card and relayed messages in the clinic's group are known only from its triage
rows. Erasing or purging the case therefore records their message ids here first, in the same
transaction, and bot/services/clinic_copies.py deletes them through the Bot API afterwards: a
crash in between loses none of them, and deleting twice is harmless. One worker at a time works
on a row (`claim`): the bot's jobs, the /delete that queued it, or the `purge` command in
another process.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import ScalarSelect, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import (
    Case,
    ClinicCopy,
    ClinicCopyReason,
    TriageMessage,
    TriagePost,
    User,
)

# Long enough for one row's deletions under Telegram's flood limit of 20 a minute in a group;
# a worker that died holding a row lets it go after this.
CLAIM_FOR = dt.timedelta(minutes=5)


def add_copy(
    session: Session,
    public_id: uuid.UUID,
    reason: ClinicCopyReason,
    chat_id: int,
    message_ids: list[int],
    *,
    card_ids: list[int] | None = None,
    notify_chat_id: int | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> ClinicCopy:
    copy = ClinicCopy(
        case_public_id=public_id,
        reason=reason,
        chat_id=chat_id,
        message_ids=list(message_ids),
        card_ids=list(card_ids or []),
        refused_ids=[],
        notify_chat_id=notify_chat_id,
        language=language,
        queued_at=now or utcnow(),
        attempts=0,
    )
    session.add(copy)
    return copy


def record_copies_of(
    session: Session,
    case_ids: ScalarSelect[int],
    reason: ClinicCopyReason,
    *,
    chat_id: int | None,
    now: dt.datetime | None = None,
) -> int:
    """Record the clinic-group messages of the cases `case_ids`, about to be deleted; returns
    how many cases had some. Nothing without a clinic group (`chat_id` None)."""
    if chat_id is None:
        return 0
    relayed: dict[int, list[int]] = defaultdict(list)
    for case_id, message_id in session.execute(
        select(TriageMessage.case_id, TriageMessage.group_message_id)
        .where(TriageMessage.case_id.in_(case_ids), TriageMessage.group_message_id.is_not(None))
        .order_by(TriageMessage.id)
    ):
        if message_id is not None:
            relayed[case_id].append(message_id)
    rows = session.execute(
        select(Case.id, Case.public_id, User.telegram_user_id, User.language, TriagePost)
        .join(User, User.id == Case.user_id)
        .outerjoin(TriagePost, TriagePost.case_id == Case.id)
        .where(Case.id.in_(case_ids))
        .order_by(Case.id)
    )
    recorded = 0
    for case_id, public_id, telegram_user_id, language, post in rows:
        albums, cards = _posted(post)
        # The card last: where Telegram refuses, the request to the clinic answers the card.
        message_ids = [*relayed.get(case_id, []), *albums, *cards]
        if not message_ids:
            continue
        add_copy(
            session,
            public_id,
            reason,
            chat_id,
            message_ids,
            card_ids=cards,
            notify_chat_id=telegram_user_id,
            language=language,
            now=now,
        )
        recorded += 1
    session.flush()
    return recorded


def _posted(post: TriagePost | None) -> tuple[list[int], list[int]]:
    """Album and card message ids of every round of a post, oldest first."""
    if post is None:
        return [], []
    albums = [*(post.earlier_album_ids or []), *(post.album_message_ids or [])]
    cards = list(post.earlier_card_ids or [])
    if post.card_message_id is not None:
        cards.append(post.card_message_id)
    return albums, cards


def unclaimed(
    session: Session, *, now: dt.datetime | None = None, limit: int | None = None
) -> list[int]:
    """Ids of rows no worker holds now, the oldest first."""
    result = session.scalars(
        select(ClinicCopy.id).where(_free(now or utcnow())).order_by(ClinicCopy.id).limit(limit)
    )
    return list(result)


def _free(now: dt.datetime) -> Any:
    return or_(ClinicCopy.claimed_until.is_(None), ClinicCopy.claimed_until < now)


def claim(session: Session, copy_id: int, *, now: dt.datetime | None = None) -> ClinicCopy | None:
    """Hold the row for CLAIM_FOR, unless another worker holds it (then None)."""
    now = now or utcnow()
    return session.scalar(
        update(ClinicCopy)
        .where(ClinicCopy.id == copy_id, _free(now))
        .values(claimed_until=now + CLAIM_FOR)
        .returning(ClinicCopy)
        .execution_options(populate_existing=True)
    )


def save(session: Session, /, copy_id: int, *, release: bool, **values: Any) -> None:
    """Record progress on a claimed row; `release` lets the next run take it again."""
    if release:
        values["claimed_until"] = None
    session.execute(update(ClinicCopy).where(ClinicCopy.id == copy_id).values(**values))


def finish(session: Session, copy_id: int) -> None:
    """Everything that could be done is done: the row (and the person's chat id) goes."""
    session.execute(delete(ClinicCopy).where(ClinicCopy.id == copy_id))


def pending(session: Session) -> int:
    """How many cases still have copies in the clinic's group to deal with."""
    return int(session.scalar(select(func.count()).select_from(ClinicCopy)) or 0)
