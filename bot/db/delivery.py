"""Bringing a completed case's result to the person: how, how often, and when to stop.

The result is delivered by editing the case's "Analysing…" message into it: an edit can be
repeated after a crash, and Telegram's "message is not modified" then proves it was made. Only
when there is no such message to edit is the result a new message, which cannot be repeated
safely: its attempt is recorded before it is sent, and it is never sent twice. Every try is
counted and pushes the next one back, so the cases due first are always taken first and no set
of stuck results can hold another up; a delivery ends as delivered or given up, with the reason.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.cases import claim_due_cases, lock_case
from bot.db.claims import Claim, held_by_other, release
from bot.db.models import ERROR_TEXT_MAX, Case, CaseStatus, DeliveryFailure, Subject
from bot.db.triage import post_of_case
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire


class DeliveryWay(StrEnum):
    EDIT = "edit"  # the status message becomes the result
    NEW_MESSAGE = "new message"  # there is no status message to edit


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed try at delivering a result."""

    public_id: uuid.UUID
    chat_id: int
    diagnosis: Diagnosis
    attempt: int
    way: DeliveryWay
    status_message_id: int | None
    # The result of a check sent earlier (after a retry, or long after the press): say so, and
    # since an edit does not notify, tell the person that it came.
    late: bool
    # What a redelivery's result shows besides the diagnosis (see bot.domain.result.CaseResult).
    questionnaire: Questionnaire
    patient_ref: str | None
    checked_at: dt.datetime
    # The person's stored language, and whether the clinic's queue took the case, for a
    # redelivery's result (a first delivery knows both from the completing transaction).
    language: str | None = None
    clinic_queued: bool = False
    # Someone else's skin (a field worker's patient): the result offers "Next patient".
    for_someone_else: bool = False


def _deliverable(case: Case) -> bool:
    return (
        case.status is CaseStatus.COMPLETED
        and case.diagnosis is not None
        and case.delivered_at is None
        and case.delivery_given_up_at is None
    )


def _give_up(case: Case, reason: DeliveryFailure, now: dt.datetime) -> None:
    case.delivery_given_up_at = now
    case.delivery_failure = reason.value
    case.next_delivery_at = None


def _retried(case: Case) -> bool:
    """Sent again after the person's press (a retry, or a restart): they were told to wait."""
    return (
        case.requested_at is None
        or case.submitted_at is None
        or case.submitted_at > case.requested_at
    )


def _late(case: Case, now: dt.datetime, late_after: dt.timedelta) -> bool:
    if _retried(case):
        return True
    assert case.requested_at is not None
    return now - case.requested_at > late_after


def claim_delivery(
    session: Session,
    public_id: uuid.UUID,
    *,
    retry_in: Callable[[int], dt.timedelta],
    max_attempts: int,
    late_after: dt.timedelta,
    claim: Claim | None = None,
    now: dt.datetime | None = None,
) -> Delivery | None:
    """Record a try at delivering the result and say how; None when there is nothing (more)
    to do: delivered, given up, or just given up on here (tries used up, or a new message may
    already have gone out and there is nothing to edit instead).

    `retry_in(attempt)`: how long after this try, the `attempt`th, the next one is due should
    this one not end the delivery. `claim`: the worker delivering; None too while another
    worker holds the case (it is delivering it now).
    """
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    if not _deliverable(case) or held_by_other(case, None if claim is None else claim.holder, now):
        return None
    if claim is not None:
        case.claimed_by, case.claimed_until = claim.holder, now + claim.lease
    if case.delivery_attempts >= max_attempts:
        _give_up(case, DeliveryFailure.TOO_MANY_TRIES, now)
        session.flush()
        return None
    if case.status_message_id is not None:
        # Also after a new message was attempted (the status message could not be edited then):
        # if it still cannot be, claim_new_message gives up rather than send a second one.
        way = DeliveryWay.EDIT
    elif case.result_message_at is None:
        way = DeliveryWay.NEW_MESSAGE
        case.result_message_at = now
    else:
        _give_up(case, DeliveryFailure.MAYBE_SENT, now)
        session.flush()
        return None
    case.delivery_attempts += 1
    case.next_delivery_at = now + retry_in(case.delivery_attempts)
    session.flush()
    diagnosis = case.result
    assert diagnosis is not None
    return Delivery(
        public_id=case.public_id,
        chat_id=case.telegram_user_id,
        diagnosis=diagnosis,
        attempt=case.delivery_attempts,
        way=way,
        status_message_id=case.status_message_id,
        late=_late(case, now, late_after),
        questionnaire=case.questionnaire,
        patient_ref=case.patient_ref,
        checked_at=case.checked_at,
        language=case.user.language,
        clinic_queued=post_of_case(session, case.public_id) is not None,
        for_someone_else=case.subject is Subject.OTHER_WITH_PERMISSION,
    )


def claim_new_message(
    session: Session, public_id: uuid.UUID, *, now: dt.datetime | None = None
) -> bool:
    """The status message cannot be edited (deleted, too old): may a new message be sent
    instead? Only once: recorded before it is sent."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    if not _deliverable(case) or case.result_message_at is not None:
        return False
    case.result_message_at = now
    session.flush()
    return True


def record_delivery_failure(
    session: Session,
    public_id: uuid.UUID,
    error: str,
    *,
    give_up: DeliveryFailure | None,
    not_sent: bool,
    max_attempts: int,
    now: dt.datetime | None = None,
) -> Case:
    """A try failed. `give_up`: it never can succeed (blocked, chat gone, ...). `not_sent`:
    Telegram refused a new message outright, so the next try may send one again. The next
    try is due at the time the claim set, unless the tries are used up."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    release(case)
    case.last_error = error[:ERROR_TEXT_MAX]
    if not_sent:
        case.result_message_at = None
    if _deliverable(case):
        if give_up is not None:
            _give_up(case, give_up, now)
        elif case.delivery_attempts >= max_attempts:
            _give_up(case, DeliveryFailure.TOO_MANY_TRIES, now)
    session.flush()
    return case


def mark_delivered(
    session: Session, public_id: uuid.UUID, *, now: dt.datetime | None = None
) -> bool:
    """The result reached the person's chat. Returns True once: the card is then claimed, to
    be sent now (never twice, even if its send is interrupted)."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    if case.status is not CaseStatus.COMPLETED:
        return False
    if case.delivered_at is None:
        case.delivered_at = now
        case.next_delivery_at = None
        release(case)
    send_card = case.card_attempted_at is None
    if send_card:
        case.card_attempted_at = now
    session.flush()
    return send_card


def claim_due_deliveries(
    session: Session, claim: Claim, *, now: dt.datetime | None = None, limit: int = 20
) -> list[uuid.UUID]:
    """Claim the completed cases whose next delivery try is due."""
    return claim_due_cases(
        session, claim, CaseStatus.COMPLETED, Case.next_delivery_at, now=now, limit=limit
    )
