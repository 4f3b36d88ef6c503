"""Storage of triage: a case's post in the clinicians' group, their decisions, relayed messages.

A case enters the queue in the same transaction that completes it (`enqueue`), so no completed
case is ever missed; posting it, delivering a decision and reminding the group are recorded as
they happen, so a restart repeats none of them and forgets none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.claims import Claim, claim_rows, held_by_other, release
from bot.db.clinic_copies import add_copy
from bot.db.consent import require_current_consent
from bot.db.errors import CaseAlreadyOpen, ConsentRequired, StorageError
from bot.db.models import (
    ERROR_TEXT_MAX,
    Case,
    CaseStatus,
    ClinicCopyReason,
    TriageDecision,
    TriageDecisionKind,
    TriageDirection,
    TriageMessage,
    TriagePost,
    User,
)
from bot.domain.safeguards import refuses_sending

NAME_MAX = 128


class TriageConflict(StorageError):
    """A press that no longer applies: decided meanwhile, a newer round, or the case is gone.

    It names the post by its id (None: gone), not as a row: raised inside a unit of work, it is
    caught after the rollback, which leaves any row of that session detached and unreadable.
    """

    def __init__(self, reason: str, post: TriagePost | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.post_id = None if post is None else post.id


def enqueue(
    session: Session,
    case: Case,
    advice_tier: str,
    *,
    now: dt.datetime | None = None,
) -> TriagePost:
    """Put a just-completed case in the clinic's queue (a new round after new photos)."""
    now = now or utcnow()
    post = session.scalar(select(TriagePost).where(TriagePost.case_id == case.id))
    if post is None:
        post = TriagePost(case_id=case.id, round=1, post_attempts=0, decisions_in_round=0)
        session.add(post)
    # A new round: the earlier round's album and card stay in the group, and on record.
    if post.album_message_ids:
        post.earlier_album_ids = [*(post.earlier_album_ids or []), *post.album_message_ids]
    if post.card_message_id is not None:
        post.earlier_card_ids = [*(post.earlier_card_ids or []), post.card_message_id]
    post.advice_tier = advice_tier
    post.waiting_since = case.submitted_at or now
    post.queued_at = now
    post.album_message_ids = None
    post.card_message_id = None
    post.posted_at = None
    post.refused_at = None
    post.last_error = None
    post.decision = None
    post.decided_at = None
    post.reminded_at = None
    session.flush()
    return post


def get_post(session: Session, post_id: int) -> TriagePost | None:
    return session.scalar(
        select(TriagePost).where(TriagePost.id == post_id).execution_options(populate_existing=True)
    )


def post_of_case(session: Session, public_id: uuid.UUID) -> TriagePost | None:
    """The case's post, unless it will never be posted."""
    return session.scalar(
        select(TriagePost)
        .join(TriagePost.case)
        .where(Case.public_id == public_id, TriagePost.refused_at.is_(None))
    )


def claim_post(
    session: Session,
    post_id: int,
    *,
    chat_id: int,
    claim: Claim | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> TriagePost | None:
    """The post, locked, when its case may go to the clinic's group now; else None.

    Called before the album and again before the card, so that consent is checked at the
    moment of each post. A post whose person no longer consents (withdrawn, erased, or terms
    they have not accepted), or whose photos may not leave at all (bot/domain/safeguards.py), is
    settled for good: marked refused, and an album it already posted is queued for deletion
    (a half post, without its card, is no use to the clinic). `claim`: the worker posting it,
    whose claim is renewed; None when another worker holds the post.
    """
    now = now or utcnow()
    post = session.scalar(
        select(TriagePost)
        .where(TriagePost.id == post_id)
        .with_for_update(of=TriagePost)
        .execution_options(populate_existing=True)
    )
    if post is None or post.posted_at is not None or post.refused_at is not None:
        return None
    if held_by_other(post, None if claim is None else claim.holder, now):
        return None
    case = post.case
    if case.status is not CaseStatus.COMPLETED:
        return None
    refusal = None
    try:
        require_current_consent(session, case.telegram_user_id)
    except ConsentRequired as missing:
        refusal = f"not posted: consent required ({missing.reason})"
    if refusal is None and refuses_sending(case.questionnaire, today):
        refusal = "not posted: intimate photos of a possible minor"
    if refusal is None:
        if claim is not None:
            post.claimed_by, post.claimed_until = claim.holder, now + claim.lease
        return post
    release(post)
    if post.album_message_ids:
        add_copy(
            session,
            case.public_id,
            ClinicCopyReason.WITHDRAWN,
            chat_id,
            post.album_message_ids,
            now=now,
        )
    post.album_message_ids = None
    post.refused_at = now
    post.last_error = refusal
    session.flush()
    return None


def _waiting(session: Session, condition: ColumnElement[bool], limit: int) -> list[TriagePost]:
    """Posts of completed cases meeting `condition`, the longest queued first."""
    # The case's status as EXISTS, not a join: the posts are then read in their index's order
    # until `limit`, instead of from every completed case (most of the table).
    result = session.scalars(
        select(TriagePost)
        .where(
            condition,
            TriagePost.case.has(Case.status == CaseStatus.COMPLETED),
            TriagePost.refused_at.is_(None),
        )
        .order_by(TriagePost.queued_at, TriagePost.id)
        .limit(limit)
    )
    return list(result)


def unposted(session: Session, *, limit: int = 10) -> list[TriagePost]:
    """Queued cases whose card is not in the group yet (new, or a post that failed)."""
    return _waiting(session, TriagePost.posted_at.is_(None), limit)


# Reminders sent to the clinic's group in one run of the job.
REMINDERS_AT_ONCE = 50


def claim_unposted(session: Session, claim: Claim, *, limit: int = 10) -> list[int]:
    """Claim the queued cases whose card is not in the group yet, the longest queued first,
    leaving those another worker is posting."""
    return claim_rows(
        session,
        TriagePost,
        TriagePost.posted_at.is_(None),
        TriagePost.refused_at.is_(None),
        TriagePost.case.has(Case.status == CaseStatus.COMPLETED),
        order_by=(TriagePost.queued_at, TriagePost.id),
        holder=claim.holder,
        lease=claim.lease,
        limit=limit,
    )


def record_album(
    session: Session,
    post_id: int,
    public_id: uuid.UUID,
    message_ids: list[int],
    *,
    chat_id: int,
) -> None:
    """The album is in the group. If the case was erased meanwhile (the post is gone), the
    album is queued for deletion instead: nothing else would ever know its ids."""
    result = session.execute(
        update(TriagePost).where(TriagePost.id == post_id).values(album_message_ids=message_ids)
    )
    if int(result.rowcount) == 0 and message_ids:  # type: ignore[attr-defined]
        add_copy(session, public_id, ClinicCopyReason.ERASED, chat_id, message_ids)


def record_card(
    session: Session,
    post_id: int,
    public_id: uuid.UUID,
    card_message_id: int,
    *,
    chat_id: int,
    now: dt.datetime | None = None,
) -> None:
    """The card is in the group (the case is posted); queued for deletion, as in
    `record_album`, if the case was erased meanwhile."""
    result = session.execute(
        update(TriagePost)
        .where(TriagePost.id == post_id)
        .values(
            card_message_id=card_message_id,
            posted_at=now or utcnow(),
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )
    )
    if int(result.rowcount) == 0:  # type: ignore[attr-defined]
        add_copy(
            session,
            public_id,
            ClinicCopyReason.ERASED,
            chat_id,
            [card_message_id],
            card_ids=[card_message_id],
        )


def record_post_failure(session: Session, post_id: int, error: str) -> None:
    session.execute(
        update(TriagePost)
        .where(TriagePost.id == post_id)
        .values(
            post_attempts=TriagePost.post_attempts + 1,
            last_error=error[:ERROR_TEXT_MAX],
            claimed_by=None,
            claimed_until=None,
        )
    )


def decide(
    session: Session,
    post_id: int,
    round_: int,
    seen: int,
    kind: TriageDecisionKind,
    clinician_telegram_id: int,
    clinician_name: str,
    *,
    now: dt.datetime | None = None,
) -> TriageDecision:
    """Record a clinician's decision, made on a card showing `seen` earlier decisions.

    The conditional UPDATE is the lock: of two presses on the same view of a card, one wins and
    the other gets TriageConflict, so a decision is only ever replaced on purpose.
    """
    now = now or utcnow()
    locked = session.execute(
        update(TriagePost)
        .where(
            TriagePost.id == post_id,
            TriagePost.round == round_,
            TriagePost.decisions_in_round == seen,
            TriagePost.posted_at.is_not(None),
        )
        .values(
            decision=kind,
            decided_at=now,
            decisions_in_round=TriagePost.decisions_in_round + 1,
        )
        .execution_options(synchronize_session=False)
    )
    post = get_post(session, post_id)
    if int(locked.rowcount) != 1 or post is None:  # type: ignore[attr-defined]
        raise TriageConflict("stale", post)
    if post.case.status is not CaseStatus.COMPLETED:
        raise TriageConflict("not_waiting", post)
    decision = TriageDecision(
        case_id=post.case_id,
        round=round_,
        decision=kind,
        advice_tier=post.advice_tier,
        changed=seen > 0,
        clinician_telegram_id=clinician_telegram_id,
        clinician_name=clinician_name[:NAME_MAX],
        decided_at=now,
        waited_s=max(0.0, (now - post.queued_at).total_seconds()),
    )
    session.add(decision)
    session.flush()
    return decision


def decisions_of(session: Session, case_id: int, round_: int) -> list[TriageDecision]:
    result = session.scalars(
        select(TriageDecision)
        .where(TriageDecision.case_id == case_id, TriageDecision.round == round_)
        .order_by(TriageDecision.id)
    )
    return list(result)


def latest_decision(session: Session, case_id: int) -> TriageDecision | None:
    return session.scalar(
        select(TriageDecision)
        .where(TriageDecision.case_id == case_id)
        .order_by(TriageDecision.id.desc())
        .limit(1)
    )


def mark_decision_delivered(
    session: Session, decision_id: int, *, now: dt.datetime | None = None
) -> None:
    session.execute(
        update(TriageDecision)
        .where(TriageDecision.id == decision_id)
        .values(delivered_at=now or utcnow())
    )


@dataclass(frozen=True, slots=True)
class Undelivered:
    decision: TriageDecision
    public_id: uuid.UUID
    telegram_user_id: int
    post_id: int


def undelivered_decisions(
    session: Session, *, decided_before: dt.datetime, limit: int = 20
) -> list[Undelivered]:
    """The latest decision of each case that the person was never told (a crash or outage).

    A decision replaced before it was delivered is not delivered any more: only the newest
    of a round counts.
    """
    rows = list(
        session.execute(
            select(TriageDecision, Case.public_id, User.telegram_user_id, TriagePost)
            .join(Case, Case.id == TriageDecision.case_id)
            .join(User, User.id == Case.user_id)
            .join(TriagePost, TriagePost.case_id == Case.id)
            .where(
                TriageDecision.delivered_at.is_(None),
                TriageDecision.decided_at <= decided_before,
                TriageDecision.round == TriagePost.round,
            )
            .order_by(TriageDecision.id)
            .limit(limit)
        )
    )
    found: list[Undelivered] = []
    for decision, public_id, telegram_user_id, post in rows:
        latest = latest_decision(session, post.case_id)
        if latest is not None and latest.id == decision.id:
            found.append(Undelivered(decision, public_id, telegram_user_id, post.id))
    return found


def undecided(session: Session, *, limit: int = 50) -> list[TriagePost]:
    """Cases waiting for a clinician, the longest waiting first."""
    return _waiting(session, TriagePost.decision.is_(None), limit)


def due_reminders(
    session: Session, *, after: dt.timedelta, now: dt.datetime | None = None
) -> list[TriagePost]:
    """Posted, undecided cases waiting longer than `after` and not reminded in the last `after`."""
    cutoff = (now or utcnow()) - after
    result = session.scalars(
        select(TriagePost)
        .join(TriagePost.case)
        .where(
            TriagePost.decision.is_(None),
            TriagePost.posted_at.is_not(None),
            Case.status == CaseStatus.COMPLETED,
            TriagePost.queued_at <= cutoff,
            (TriagePost.reminded_at.is_(None)) | (TriagePost.reminded_at <= cutoff),
        )
        .order_by(TriagePost.queued_at, TriagePost.id)
    )
    return list(result)


def claim_due_reminders(
    session: Session, claim: Claim, *, after: dt.timedelta, now: dt.datetime | None = None
) -> list[TriagePost]:
    """Claim what `due_reminders` lists, leaving the posts another worker is reminding of."""
    now = now or utcnow()
    cutoff = now - after
    ids = claim_rows(
        session,
        TriagePost,
        TriagePost.decision.is_(None),
        TriagePost.posted_at.is_not(None),
        TriagePost.case.has(Case.status == CaseStatus.COMPLETED),
        TriagePost.queued_at <= cutoff,
        (TriagePost.reminded_at.is_(None)) | (TriagePost.reminded_at <= cutoff),
        order_by=(TriagePost.queued_at, TriagePost.id),
        holder=claim.holder,
        lease=claim.lease,
        limit=REMINDERS_AT_ONCE,
        now=now,
    )
    if not ids:
        return []
    posts = {
        post.id: post for post in session.scalars(select(TriagePost).where(TriagePost.id.in_(ids)))
    }
    return [posts[post_id] for post_id in ids]


def mark_reminded(session: Session, post_id: int, *, now: dt.datetime | None = None) -> None:
    session.execute(
        update(TriagePost)
        .where(TriagePost.id == post_id)
        .values(reminded_at=now or utcnow(), claimed_by=None, claimed_until=None)
    )


def reopen_for_photos(
    session: Session,
    post_id: int,
    round_: int,
    seen: int,
    telegram_user_id: int,
    *,
    now: dt.datetime | None = None,
) -> Case:
    """The person answers "Need better photos": the same case collects photos again.

    Only while that decision is the latest one of the round (a changed decision makes the
    button stale). The old photos are dropped (the clinic asked for better ones); the answers
    stay, and the case returns to the summary after "Done". CaseAlreadyOpen if another check is
    being collected: one case at a time, as always.
    """
    now = now or utcnow()
    post = get_post(session, post_id)
    case = post.case if post is not None else None
    if (
        post is None
        or case is None
        or case.user.telegram_user_id != telegram_user_id
        or post.round != round_
        or post.decisions_in_round != seen
        or post.decision is not TriageDecisionKind.BETTER_PHOTOS
        or case.status is not CaseStatus.COMPLETED
    ):
        raise TriageConflict("stale", post)
    other = session.scalar(
        select(Case.public_id).where(
            Case.user_id == case.user_id, Case.status == CaseStatus.COLLECTING
        )
    )
    if other is not None:
        raise CaseAlreadyOpen(other)
    session.refresh(case, ["photos"])
    case.photos.clear()
    case.status = CaseStatus.COLLECTING
    case.step = "photos"
    case.editing = True
    case.delivered_at = None
    case.updated_at = now
    post.round += 1
    post.decisions_in_round = 0
    post.decision = None
    post.decided_at = None
    session.flush()
    return case


def record_message(
    session: Session,
    case_id: int,
    direction: TriageDirection,
    body: str,
    *,
    clinician_telegram_id: int | None = None,
    clinician_name: str | None = None,
    group_message_id: int | None = None,
    person_message_id: int | None = None,
    now: dt.datetime | None = None,
) -> TriageMessage:
    message = TriageMessage(
        case_id=case_id,
        direction=direction,
        body=body,
        clinician_telegram_id=clinician_telegram_id,
        clinician_name=None if clinician_name is None else clinician_name[:NAME_MAX],
        group_message_id=group_message_id,
        person_message_id=person_message_id,
        sent_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def post_for_group_reply(session: Session, group_message_id: int) -> TriagePost | None:
    """The case a message in the clinic's group is about: its card, or a relayed message."""
    post = session.scalar(select(TriagePost).where(TriagePost.card_message_id == group_message_id))
    if post is not None:
        return post
    return _post_of_case(
        session,
        select(TriageMessage.case_id).where(TriageMessage.group_message_id == group_message_id),
    )


def post_for_person_reply(
    session: Session, telegram_user_id: int, person_message_id: int
) -> TriagePost | None:
    """The case of the clinic's message (in the person's chat) that the person replied to."""
    return _post_of_case(
        session,
        _case_ids_of_clinic_messages_to(telegram_user_id).where(
            TriageMessage.person_message_id == person_message_id
        ),
    )


def latest_clinic_conversation(
    session: Session, telegram_user_id: int, *, since: dt.datetime
) -> TriagePost | None:
    """The case of the newest clinic message to the person since `since`, if any."""
    return _post_of_case(
        session,
        _case_ids_of_clinic_messages_to(telegram_user_id)
        .where(TriageMessage.sent_at >= since)
        .order_by(TriageMessage.id.desc())
        .limit(1),
    )


def _case_ids_of_clinic_messages_to(telegram_user_id: int) -> Select[int]:
    """Case ids of the clinic's messages relayed to this person."""
    return (
        select(TriageMessage.case_id)
        .join(Case, Case.id == TriageMessage.case_id)
        .join(User, User.id == Case.user_id)
        .where(
            User.telegram_user_id == telegram_user_id,
            TriageMessage.direction == TriageDirection.TO_PERSON,
        )
    )


def _post_of_case(session: Session, case_ids: Select[int]) -> TriagePost | None:
    case_id = session.scalar(case_ids)
    if case_id is None:
        return None
    return session.scalar(select(TriagePost).where(TriagePost.case_id == case_id))
