"""Delivering a result: how, how often, and when it ends, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid

from bot.db import cases, delivery
from bot.db.database import Database
from bot.db.delivery import DeliveryWay
from bot.db.models import DeliveryFailure, Subject
from bot.domain.questionnaire import Questionnaire, Sex
from tests.db.helpers import (
    DIAGNOSIS,
    WORKER,
    accept_terms,
    case_with_photos,
    set_answers,
    set_subject,
)

USER = 5_123_456_789
OTHER_PERSON = 5_123_456_790
T0 = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
LATE_AFTER = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 3


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


async def completed(
    database: Database,
    *,
    status_message: int | None = 41,
    retried: bool = False,
    after_s: float = 5,
    telegram_user_id: int = USER,
) -> uuid.UUID:
    await accept_terms(database, telegram_user_id)
    public_id = await case_with_photos(database, telegram_user_id, 1)
    await database.run(cases.mark_submitted, public_id, now=T0)
    if status_message is not None:
        await database.run(cases.set_status_message, public_id, status_message)
    if retried:
        await database.run(cases.mark_pending_retry, public_id, "502", at(1), now=at(1))
        await database.run(cases.mark_submitted, public_id, now=at(2))
    await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=at(after_s))
    return public_id


async def claim(
    database: Database, public_id: uuid.UUID, now: dt.datetime, retry_in: float = 60
) -> delivery.Delivery | None:
    return await database.run(
        delivery.claim_delivery,
        public_id,
        retry_in=lambda attempt: dt.timedelta(seconds=retry_in),
        max_attempts=MAX_ATTEMPTS,
        late_after=LATE_AFTER,
        now=now,
    )


async def fail(
    database: Database,
    public_id: uuid.UUID,
    now: dt.datetime,
    *,
    give_up: DeliveryFailure | None = None,
    not_sent: bool = False,
) -> None:
    await database.run(
        delivery.record_delivery_failure,
        public_id,
        "telegram: Bad Gateway",
        give_up=give_up,
        not_sent=not_sent,
        max_attempts=MAX_ATTEMPTS,
        now=now,
    )


async def due(database: Database, now: dt.datetime, limit: int = 20) -> list[uuid.UUID]:
    return await database.run(delivery.claim_due_deliveries, WORKER, now=now, limit=limit)


async def test_a_prompt_result_is_an_edit_of_the_status_message(database: Database) -> None:
    public_id = await completed(database)
    # Due at once (the completion set no later time); claiming it moves the next try on.
    assert await due(database, at(5)) == [public_id]
    plan = await claim(database, public_id, at(6))
    assert plan is not None
    assert (plan.way, plan.status_message_id, plan.attempt, plan.late) == (
        DeliveryWay.EDIT,
        41,
        1,
        False,
    )
    assert plan.chat_id == USER and plan.diagnosis == DIAGNOSIS
    assert await due(database, at(60)) == []
    assert await due(database, at(66)) == [public_id]
    # A redelivery (after a crash) edits the same message again: repeating it changes nothing.
    again = await claim(database, public_id, at(70))
    assert again is not None and (again.way, again.attempt) == (DeliveryWay.EDIT, 2)


async def test_a_redelivery_knows_when_the_check_was_sent_and_for_whom(
    database: Database,
) -> None:
    # What the result's card shows (date, patient's code), read back for a result delivered
    # after a restart; the date is the person's press, not the retry's resubmission.
    await accept_terms(database, USER)
    public_id = await case_with_photos(database, USER, 1)
    answers = Questionnaire(birth_year=1990, sex=Sex.FEMALE)
    await database.run(set_answers, public_id, answers)
    await database.run(set_subject, public_id, Subject.OTHER_WITH_PERMISSION, "P-0042")
    await database.run(cases.mark_submitted, public_id, now=T0)
    await database.run(cases.mark_pending_retry, public_id, "502", at(1), now=at(1))
    await database.run(cases.mark_submitted, public_id, now=at(600))
    await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=at(605))
    plan = await claim(database, public_id, at(606))
    assert plan is not None
    assert plan.checked_at == T0 and plan.checked_at.tzinfo is not None
    assert plan.patient_ref == "P-0042" and plan.questionnaire == answers


async def test_delivered_once_and_the_card_claimed_once(database: Database) -> None:
    public_id = await completed(database)
    await claim(database, public_id, at(6))
    assert await database.run(delivery.mark_delivered, public_id, now=at(7)) is True
    assert await database.run(delivery.mark_delivered, public_id, now=at(8)) is False
    case = await database.run(cases.get_case, public_id)
    assert case.delivered_at == at(7) and case.card_attempted_at == at(7)
    assert await due(database, at(10_000)) == []
    assert await claim(database, public_id, at(9)) is None


async def test_a_late_result_is_edited_in_too_and_said_to_be_late(database: Database) -> None:
    public_id = await completed(database, retried=True)
    plan = await claim(database, public_id, at(6))
    assert plan is not None
    assert (plan.way, plan.status_message_id, plan.late) == (DeliveryWay.EDIT, 41, True)
    assert (await database.run(cases.get_case, public_id)).result_message_at is None


async def test_long_after_the_press_is_late_too(database: Database) -> None:
    public_id = await completed(database, after_s=LATE_AFTER.total_seconds() + 1)
    plan = await claim(database, public_id, at(LATE_AFTER.total_seconds() + 2))
    assert plan is not None and (plan.way, plan.late) == (DeliveryWay.EDIT, True)
    early = await completed(database)
    plan = await claim(database, early, at(LATE_AFTER.total_seconds() - 1))
    assert plan is not None and plan.late is False


async def test_without_a_status_message_a_maybe_sent_result_is_not_sent_again(
    database: Database,
) -> None:
    public_id = await completed(database, status_message=None)
    plan = await claim(database, public_id, at(6))
    assert plan is not None and (plan.way, plan.late) == (DeliveryWay.NEW_MESSAGE, False)
    assert await claim(database, public_id, at(70)) is None
    case = await database.run(cases.get_case, public_id)
    assert case.delivery_failure == DeliveryFailure.MAYBE_SENT
    assert case.delivery_given_up_at == at(70) and case.next_delivery_at is None


async def test_a_new_message_refused_outright_may_be_sent_on_the_next_try(
    database: Database,
) -> None:
    public_id = await completed(database, status_message=None)
    await claim(database, public_id, at(6))
    await fail(database, public_id, at(7), not_sent=True)
    plan = await claim(database, public_id, at(70))
    assert plan is not None and (plan.way, plan.attempt) == (DeliveryWay.NEW_MESSAGE, 2)


async def test_an_edit_that_cannot_be_made_falls_back_to_one_new_message(
    database: Database,
) -> None:
    public_id = await completed(database)
    await claim(database, public_id, at(6))
    assert await database.run(delivery.claim_new_message, public_id, now=at(7)) is True
    # Sent or not before a crash, nobody knows: the next try edits again, never sends again.
    again = await claim(database, public_id, at(70))
    assert again is not None and again.way is DeliveryWay.EDIT
    assert await database.run(delivery.claim_new_message, public_id, now=at(71)) is False


async def test_a_blocked_person_is_given_up_at_once(database: Database) -> None:
    public_id = await completed(database)
    await claim(database, public_id, at(6))
    await fail(database, public_id, at(7), give_up=DeliveryFailure.BLOCKED)
    case = await database.run(cases.get_case, public_id)
    assert case.delivery_failure == DeliveryFailure.BLOCKED
    assert (case.delivery_given_up_at, case.delivery_attempts) == (at(7), 1)
    assert await due(database, at(10_000)) == []
    assert await claim(database, public_id, at(10_000)) is None


async def test_tries_are_bounded(database: Database) -> None:
    public_id = await completed(database)
    for n in range(MAX_ATTEMPTS):
        plan = await claim(database, public_id, at(10 + 100 * n))
        assert plan is not None and plan.attempt == n + 1
        await fail(database, public_id, at(11 + 100 * n))
    case = await database.run(cases.get_case, public_id)
    assert case.delivery_failure == DeliveryFailure.TOO_MANY_TRIES
    assert case.delivery_attempts == MAX_ATTEMPTS
    assert "Bad Gateway" in (case.last_error or "")
    assert await due(database, at(10_000)) == []


async def test_stuck_results_never_hold_up_one_that_is_due(database: Database) -> None:
    stuck = [await completed(database, telegram_user_id=USER + n) for n in range(20)]
    newest = await completed(database, telegram_user_id=USER + 99, after_s=30)
    for public_id in stuck:
        await claim(database, public_id, at(40), retry_in=3600)
        await fail(database, public_id, at(41))
    assert await due(database, at(60)) == [newest]
    # Oldest due first, whatever the order they were completed in.
    assert await due(database, at(4000), limit=3) == [newest, *stuck[:2]]


async def test_a_redelivered_result_still_knows_it_was_someone_elses(database: Database) -> None:
    """A result built again from the claim (after a crash) offers "Next patient" as the first
    delivery did: the claim says whose skin it was."""
    own = await completed(database)
    plan = await claim(database, own, at(6))
    assert plan is not None and not plan.for_someone_else
    await accept_terms(database, OTHER_PERSON)
    public_id = await case_with_photos(database, OTHER_PERSON, 1)
    await database.run(set_subject, public_id, Subject.OTHER_WITH_PERMISSION, "PT-0417")
    await database.run(cases.mark_submitted, public_id, now=T0)
    await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=at(5))
    theirs = await claim(database, public_id, at(6))
    assert theirs is not None and theirs.for_someone_else
