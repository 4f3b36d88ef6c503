"""Erasing a person: everything but the consent records, which are the legally required proof."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.consent import withdraw_consent
from bot.db.models import (
    Case,
    CasePhoto,
    ConsentRecord,
    TriageDecision,
    TriageMessage,
    TriagePost,
    User,
)


@dataclass(frozen=True, slots=True)
class Erasure:
    cases_deleted: int
    profile_deleted: bool
    # The withdrawal that closes the person's consent history; None if they never decided.
    withdrawal: ConsentRecord | None


async def erase_user(
    session: AsyncSession,
    telegram_user_id: int,
    *,
    chat_type: str | None = "private",
    now: dt.datetime | None = None,
) -> Erasure:
    """Delete the person's cases, answers, photo references, messages with the clinic and
    profile; idempotent.

    Keeps their consent records and appends a withdrawal (unless the latest already is one).
    """
    user_id = await session.scalar(select(User.id).where(User.telegram_user_id == telegram_user_id))
    cases_deleted = 0
    if user_id is not None:
        case_ids = select(Case.id).where(Case.user_id == user_id).scalar_subquery()
        # Explicit deletes rather than trusting ON DELETE CASCADE, which a database with
        # foreign keys switched off would silently skip.
        for linked in (CasePhoto, TriageMessage, TriagePost):
            await session.execute(
                delete(linked)
                .where(linked.case_id.in_(case_ids))
                .execution_options(synchronize_session=False)
            )
        # Clinicians' decisions stay for the clinic's audit numbers, unlinked: without the case
        # they name no one (decision, AI tier, times, and the clinician, who is staff).
        await session.execute(
            update(TriageDecision)
            .where(TriageDecision.case_id.in_(case_ids))
            .values(case_id=None)
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            delete(Case).where(Case.user_id == user_id).execution_options(synchronize_session=False)
        )
        cases_deleted = int(result.rowcount)  # type: ignore[attr-defined]
        await session.execute(
            delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
        )
    withdrawal = await withdraw_consent(session, telegram_user_id, chat_type=chat_type, now=now)
    return Erasure(cases_deleted, user_id is not None, withdrawal)
