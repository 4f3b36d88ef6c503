"""Follow-up reminders: set under a result, sent once when due, dropped with their case.

Sending is at least once, never twice at the same time: a worker claims the reminders due in a
short transaction (bot/db/claims.py: `claimed_by`, `claimed_until`, SKIP LOCKED on PostgreSQL),
sends them, and records each as sent in another. Another worker (a second process, the next
round) skips a claimed row until its claim expires, so a crash between the claim and the send
delays the reminder by CLAIM_FOR instead of losing it. A crash in the moment between Telegram
accepting the message and the record can send it a second time; "Check it again" on either copy
leads to the same follow-up check (bot/db/follow_ups.py), so that costs one notification, where
losing it would cost the follow-up the person asked for.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.claims import claim_rows
from bot.db.errors import CaseNotFound
from bot.db.models import Case, CaseStatus, Reminder, User

# A worker that died holding a claim lets the reminder go after this.
CLAIM_FOR = dt.timedelta(minutes=5)
# A reminder Telegram refused for a passing reason is tried again after this, up to MAX_ATTEMPTS.
RETRY_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class ReminderView:
    """A reminder as the person sees it: for which check, when."""

    id: int
    case_public_id: uuid.UUID
    due_at: dt.datetime
    after_days: float
    checked_at: dt.datetime
    patient_ref: str | None = None
    pending: bool = True


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder claimed for sending."""

    id: int
    chat_id: int
    language: str | None
    case_public_id: uuid.UUID
    checked_at: dt.datetime
    attempts: int


def checked_at(case: Case) -> dt.datetime:
    """When the check was made, as reminders and comparisons date it: when it was sent."""
    return case.submitted_at or case.created_at


def _pending() -> ColumnElement[bool]:
    return and_(Reminder.sent_at.is_(None), Reminder.cancelled_at.is_(None))


def _view(reminder: Reminder, case: Case) -> ReminderView:
    return ReminderView(
        id=reminder.id,
        case_public_id=case.public_id,
        due_at=reminder.due_at,
        after_days=reminder.after_days,
        checked_at=checked_at(case),
        patient_ref=case.patient_ref,
        pending=reminder.sent_at is None and reminder.cancelled_at is None,
    )


def _own_case(session: Session, telegram_user_id: int, public_id: uuid.UUID) -> Case:
    case = session.scalar(
        select(Case)
        .join(Case.user)
        .where(Case.public_id == public_id, User.telegram_user_id == telegram_user_id)
    )
    if case is None or case.status is not CaseStatus.COMPLETED:
        raise CaseNotFound(public_id)
    return case


def set_reminder(
    session: Session,
    telegram_user_id: int,
    public_id: uuid.UUID,
    *,
    after_days: float,
    due_at: dt.datetime,
    now: dt.datetime | None = None,
) -> ReminderView:
    """Remind the person of their completed case at `due_at`. A reminder already pending is kept
    as it is (a second press changes nothing); one sent or cancelled is set anew. CaseNotFound
    when the case is not theirs, not completed or gone."""
    now = now or utcnow()
    case = _own_case(session, telegram_user_id, public_id)
    reminder = session.scalar(select(Reminder).where(Reminder.case_id == case.id))
    if reminder is None:
        reminder = Reminder(case_id=case.id, chat_id=telegram_user_id, created_at=now)
        session.add(reminder)
    elif reminder.sent_at is None and reminder.cancelled_at is None:
        return _view(reminder, case)
    reminder.due_at, reminder.after_days = due_at, after_days
    reminder.sent_at = reminder.cancelled_at = None
    reminder.claimed_by = reminder.claimed_until = None
    reminder.attempts = 0
    session.flush()
    return _view(reminder, case)


def reminder_of(
    session: Session, telegram_user_id: int, public_id: uuid.UUID
) -> ReminderView | None:
    """The person's pending reminder of the case, if any."""
    found = session.execute(
        select(Reminder, Case)
        .join(Case, Reminder.case_id == Case.id)
        .join(Case.user)
        .where(Case.public_id == public_id, User.telegram_user_id == telegram_user_id, _pending())
    ).first()
    return None if found is None else _view(*found)


def cancel_reminder(
    session: Session,
    telegram_user_id: int,
    *,
    reminder_id: int | None = None,
    public_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Cancel the person's pending reminder (by its id, or by its case); False if there was none
    pending (sent, cancelled already, or not theirs)."""
    query = (
        select(Reminder)
        .join(Case, Reminder.case_id == Case.id)
        .join(Case.user)
        .where(User.telegram_user_id == telegram_user_id, _pending())
    )
    if reminder_id is not None:
        query = query.where(Reminder.id == reminder_id)
    if public_id is not None:
        query = query.where(Case.public_id == public_id)
    reminder = session.scalar(query.with_for_update())
    if reminder is None:
        return False
    reminder.cancelled_at = now or utcnow()
    session.flush()
    return True


def pending_reminders(session: Session, telegram_user_id: int) -> list[ReminderView]:
    """The person's reminders still to come, the soonest first."""
    rows = session.execute(
        select(Reminder, Case)
        .join(Case, Reminder.case_id == Case.id)
        .join(Case.user)
        .where(User.telegram_user_id == telegram_user_id, _pending())
        .order_by(Reminder.due_at, Reminder.id)
    )
    return [_view(reminder, case) for reminder, case in rows]


def drop_reminders_of(session: Session, telegram_user_id: int) -> int:
    """Delete the person's reminders still to come (consent withdrawn); how many."""
    ids = (
        select(Reminder.id)
        .join(Case, Reminder.case_id == Case.id)
        .join(Case.user)
        .where(User.telegram_user_id == telegram_user_id, _pending())
    )
    result = session.execute(
        delete(Reminder)
        .where(Reminder.id.in_(ids.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def claim_due(
    session: Session,
    worker: str,
    *,
    now: dt.datetime | None = None,
    limit: int = 20,
) -> list[DueReminder]:
    """Claim the reminders due and not held by a live claim, the longest due first."""
    now = now or utcnow()
    ids = claim_rows(
        session,
        Reminder,
        _pending(),
        Reminder.due_at <= now,
        order_by=(Reminder.due_at, Reminder.id),
        holder=worker,
        lease=CLAIM_FOR,
        limit=limit,
        now=now,
    )
    claimed = []
    for reminder_id in ids:
        reminder = session.get_one(Reminder, reminder_id, populate_existing=True)
        case = session.get_one(Case, reminder.case_id)
        reminder.attempts += 1
        claimed.append(
            DueReminder(
                id=reminder.id,
                chat_id=reminder.chat_id,
                language=case.user.language,
                case_public_id=case.public_id,
                checked_at=checked_at(case),
                attempts=reminder.attempts,
            )
        )
    session.flush()
    return claimed


def mark_sent(
    session: Session, reminder_id: int, worker: str, *, now: dt.datetime | None = None
) -> bool:
    """The reminder went out; False if it is gone meanwhile (its case erased)."""
    reminder = session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None:
        return False
    reminder.sent_at = now or utcnow()
    reminder.claimed_by, reminder.claimed_until = worker, None
    session.flush()
    return True


def release(
    session: Session, reminder_id: int, *, give_up: bool, now: dt.datetime | None = None
) -> None:
    """Telegram refused it: try again after RETRY_AFTER, or never (`give_up`: blocked, or too many
    tries), in which case the reminder is deleted."""
    reminder = session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None:
        return
    if give_up or reminder.attempts >= MAX_ATTEMPTS:
        session.delete(reminder)
    else:
        # Held by no worker, not even this one (whose next round could take back its own
        # claim at once), until the wait is over.
        reminder.claimed_by, reminder.claimed_until = None, (now or utcnow()) + RETRY_AFTER
    session.flush()
