"""Erasing a person: everything but the consent records, which are the legally required proof."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, delete, select, update
from sqlalchemy.orm import Session

from bot.db.clinic_copies import record_copies_of
from bot.db.consent import withdraw_consent
from bot.db.models import (
    Case,
    CasePhoto,
    ClinicCopyReason,
    ConsentRecord,
    Reminder,
    TriageDecision,
    TriageMessage,
    TriagePost,
    User,
)


@dataclass(frozen=True, slots=True)
class Erasure:
    cases_deleted: int
    profile_deleted: bool
    # Cases with messages in the clinic's group, now queued for deletion there.
    clinic_copies: int
    # The withdrawal that closes the person's consent history; None if they never decided.
    withdrawal: ConsentRecord | None


def erase_user(
    session: Session,
    telegram_user_id: int,
    *,
    chat_type: str | None = "private",
    clinic_chat_id: int | None = None,
    now: dt.datetime | None = None,
) -> Erasure:
    """Delete the person's cases, answers, photo references, messages with the clinic and
    profile; idempotent.

    Keeps their consent records and appends a withdrawal (unless the latest already is one).
    With a clinic group (`clinic_chat_id`), the ids of the case's messages there are queued
    for deletion (bot/db/clinic_copies.py) in the same transaction.
    """
    user_id = session.scalar(select(User.id).where(User.telegram_user_id == telegram_user_id))
    cases_deleted = copies = 0
    if user_id is not None:
        case_ids = select(Case.id).where(Case.user_id == user_id).scalar_subquery()
        copies = record_copies_of(
            session, case_ids, ClinicCopyReason.ERASED, chat_id=clinic_chat_id
        )
        cases_deleted = delete_cases(session, case_ids)
        session.execute(
            delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
        )
    withdrawal = withdraw_consent(session, telegram_user_id, chat_type=chat_type, now=now)
    return Erasure(cases_deleted, user_id is not None, copies, withdrawal)


def delete_cases(session: Session, case_ids: ScalarSelect[int]) -> int:
    """Delete the cases `case_ids` with everything linked to them; returns how many."""
    # Explicit deletes rather than trusting ON DELETE CASCADE, which a database with foreign
    # keys switched off would silently skip.
    for linked in (CasePhoto, TriageMessage, TriagePost, Reminder):
        session.execute(
            delete(linked)
            .where(linked.case_id.in_(case_ids))
            .execution_options(synchronize_session=False)
        )
    # Clinicians' decisions stay for the clinic's audit numbers, unlinked: without the case
    # they name no one (decision, AI tier, times, and the clinician, who is staff).
    session.execute(
        update(TriageDecision)
        .where(TriageDecision.case_id.in_(case_ids))
        .values(case_id=None)
        .execution_options(synchronize_session=False)
    )
    # A later check that followed one of these up stays, unlinked (ON DELETE SET NULL does the
    # same, where foreign keys are on): it has a retention period of its own.
    session.execute(
        update(Case)
        .where(Case.follow_up_of.in_(case_ids))
        .values(follow_up_of=None)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        delete(Case).where(Case.id.in_(case_ids)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
