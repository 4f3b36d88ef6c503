"""A case through its life, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.orm import Session

from bot.conversation import questions
from bot.db import cases, consent
from bot.db.database import Database
from bot.db.errors import CaseAlreadyOpen, CaseFull, CaseNotFound, CaseStateError, ConsentRequired
from bot.db.models import (
    ERROR_TEXT_MAX,
    PATIENT_REF_MAX,
    Case,
    CaseStatus,
    ConsentDecision,
    Subject,
)
from bot.domain.questionnaire import Questionnaire
from bot.domain.steps import Step
from bot.i18n.texts import text
from tests.db.helpers import (
    DIAGNOSIS,
    QUESTIONNAIRE,
    WORKER,
    accept_terms,
    case_with_photos,
    get_user,
    photo,
    set_answers,
    set_subject,
)

USER = 5_123_456_789
T0 = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


async def test_new_case_starts_collecting_for_a_new_person(database: Database) -> None:
    case = await database.run(cases.create_case, USER, language="en", now=T0)
    assert case.status is CaseStatus.COLLECTING
    assert isinstance(case.public_id, uuid.UUID)
    assert case.subject is Subject.OWN
    assert case.photos == []
    assert case.created_at == T0 and case.created_at.tzinfo is not None
    user = await database.run(get_user, USER)
    assert user is not None and user.language == "en" and user.first_seen == T0
    assert (await database.run(cases.open_case, USER)) is not None


async def test_only_one_case_is_collected_at_a_time(database: Database) -> None:
    first = await database.run(cases.create_case, USER)
    with pytest.raises(CaseAlreadyOpen) as caught:
        await database.run(cases.create_case, USER)
    assert caught.value.public_id == first.public_id
    await database.run(cases.cancel_case, first.public_id)
    second = await database.run(cases.create_case, USER)
    assert second.public_id != first.public_id


async def test_photos_take_positions_and_a_sixth_is_refused(database: Database) -> None:
    public_id = await case_with_photos(database, USER, 4)
    added = await database.run(cases.add_photo, public_id, photo(5))
    assert (added.duplicate, added.count, added.photo.position) == (False, 5, 5)
    with pytest.raises(CaseFull) as caught:
        await database.run(cases.add_photo, public_id, photo(6))
    assert caught.value.limit == 5
    case = await database.run(cases.get_case, public_id)
    assert [p.position for p in case.photos] == [1, 2, 3, 4, 5]
    assert [p.file_unique_id for p in case.photos[:4]] == [
        photo(n, str(USER)).file_unique_id for n in range(1, 5)
    ]
    first = case.photos[0]
    assert (first.file_size, first.width, first.height) == (100_001, 1280, 960)
    assert first.file_id == photo(1, str(USER)).file_id


async def test_the_same_photo_twice_is_kept_once(database: Database) -> None:
    public_id = await case_with_photos(database, USER, 2)
    again = await database.run(cases.add_photo, public_id, photo(1, str(USER)))
    assert again.duplicate and again.count == 2 and again.photo.position == 1
    assert len((await database.run(cases.get_case, public_id)).photos) == 2


async def test_answers_and_subject_round_trip(database: Database) -> None:
    public_id = await case_with_photos(database, USER, 1)
    await database.run(set_answers, public_id, QUESTIONNAIRE)
    await database.run(set_subject, public_id, Subject.OTHER_WITH_PERMISSION, "  Grandma\n  Rose  ")
    case = await database.run(cases.get_case, public_id)
    assert case.questionnaire == QUESTIONNAIRE
    assert case.subject is Subject.OTHER_WITH_PERMISSION
    assert case.patient_ref == "Grandma Rose"
    case = await database.run(set_subject, public_id, Subject.OWN, "ignored")
    assert case.patient_ref is None
    empty = await database.run(cases.create_case, USER + 1)
    assert empty.questionnaire == Questionnaire()


async def test_a_patient_reference_is_kept_up_to_the_limit_the_person_is_told(
    database: Database,
) -> None:
    """The limit the screen states is the one storage keeps: exactly PATIENT_REF_MAX characters
    typed are stored whole, one more is refused with the message, and the column holds MAX."""
    assert Case.__table__.c.patient_ref.type.length == PATIENT_REF_MAX
    public_id = await case_with_photos(database, USER, 1)

    def at_reference_step(session: Session) -> None:
        case = cases.get_case(session, public_id)
        case.subject, case.step = Subject.OTHER_WITH_PERMISSION, Step.PATIENT_REF

    await database.run(at_reference_step)
    longest = "R" * PATIENT_REF_MAX
    refused = await database.run(questions.typed, USER, longest + "X")
    assert refused is not None
    assert refused.note == text("patient_ref_invalid", max=PATIENT_REF_MAX)
    assert (await database.run(cases.get_case, public_id)).patient_ref is None
    await database.run(questions.typed, USER, longest)
    assert (await database.run(cases.get_case, public_id)).patient_ref == longest


async def test_no_submission_without_current_consent(database: Database) -> None:
    public_id = await case_with_photos(database, USER, 2)
    with pytest.raises(ConsentRequired):
        await database.run(cases.mark_submitted, public_id)
    case = await database.run(cases.get_case, public_id)
    assert case.status is CaseStatus.COLLECTING and case.consent_record_id is None

    await accept_terms(database, USER)
    await database.run(consent.withdraw_consent, USER, chat_type="private")
    with pytest.raises(ConsentRequired):
        await database.run(cases.mark_submitted, public_id)


async def test_a_case_without_photos_cannot_be_submitted(database: Database) -> None:
    await accept_terms(database, USER)
    case = await database.run(cases.create_case, USER)
    with pytest.raises(CaseStateError):
        await database.run(cases.mark_submitted, case.public_id)


async def test_submitted_case_names_the_consent_it_was_sent_under(database: Database) -> None:
    await accept_terms(database, USER)
    public_id = await case_with_photos(database, USER, 2)
    case = await database.run(cases.mark_submitted, public_id, now=T0)
    accepted = await database.run(consent.current_consent, USER)
    assert accepted is not None and accepted.decision is ConsentDecision.ACCEPTED
    assert case.status is CaseStatus.SUBMITTED
    assert case.consent_record_id == accepted.id
    assert (case.submitted_at, case.last_attempt_at, case.attempts) == (T0, T0, 1)
    with pytest.raises(CaseStateError):
        await database.run(cases.add_photo, public_id, photo(9))

    later = T0 + dt.timedelta(seconds=3)
    await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=later)
    done = await database.run(cases.get_case, public_id)
    assert done.status is CaseStatus.COMPLETED
    assert done.result == DIAGNOSIS
    assert (done.server, done.latency_s, done.completed_at) == (DIAGNOSIS.server, 2.5, later)
    assert done.telegram_user_id == USER
    with pytest.raises(CaseStateError):
        await database.run(cases.cancel_case, public_id)


async def test_failed_submission_waits_for_retry_then_completes(database: Database) -> None:
    await accept_terms(database, USER)
    public_id = await case_with_photos(database, USER, 1)
    retry_at = T0 + dt.timedelta(minutes=5)
    await database.run(cases.mark_submitted, public_id, now=T0)
    await database.run(cases.mark_pending_retry, public_id, "502 Proxy Error", retry_at, now=T0)

    early = retry_at - dt.timedelta(seconds=1)
    assert await database.run(cases.claim_due_retries, WORKER, now=early) == []
    assert await database.run(cases.claim_due_retries, WORKER, now=retry_at) == [public_id]
    due = await database.run(cases.get_case, public_id)
    assert due.last_error == "502 Proxy Error"
    assert due.telegram_user_id == USER and len(due.photos) == 1

    case = await database.run(cases.mark_submitted, public_id, now=retry_at)
    assert case.attempts == 2 and case.next_attempt_at is None
    await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=retry_at)
    case = await database.run(cases.get_case, public_id)
    assert case.last_error is None
    a_day_later = retry_at + dt.timedelta(days=1)
    assert await database.run(cases.claim_due_retries, WORKER, now=a_day_later) == []


async def test_giving_up_marks_the_case_failed(database: Database) -> None:
    await accept_terms(database, USER)
    public_id = await case_with_photos(database, USER, 1)
    await database.run(cases.mark_submitted, public_id, now=T0)
    await database.run(cases.mark_pending_retry, public_id, "timeout", T0, now=T0)
    case = await database.run(cases.mark_failed, public_id, "x" * 5000, now=T0)
    assert case.status is CaseStatus.FAILED and case.failed_at == T0
    assert case.last_error == "x" * ERROR_TEXT_MAX
    with pytest.raises(CaseStateError):
        await database.run(cases.mark_submitted, public_id)


async def test_cancelled_case_keeps_its_time_but_not_the_persons_data(database: Database) -> None:
    public_id = await case_with_photos(database, USER, 2)
    await database.run(set_subject, public_id, Subject.OTHER_WITH_PERMISSION, "PT-9")
    await database.run(set_answers, public_id, QUESTIONNAIRE)
    case = await database.run(cases.cancel_case, public_id, now=T0)
    assert (case.status, case.cancelled_at) == (CaseStatus.CANCELLED, T0)
    assert await database.run(cases.open_case, USER) is None
    stored = await database.run(cases.get_case, public_id)
    assert (stored.photos, stored.answers, stored.patient_ref) == ([], None, None)


async def test_a_photo_can_be_removed_and_its_place_taken_again(database: Database) -> None:
    public_id = await case_with_photos(database, USER, 3)
    assert await database.run(cases.remove_photo, public_id, 2)
    assert not await database.run(cases.remove_photo, public_id, 2)
    added = await database.run(cases.add_photo, public_id, photo(9))
    assert (added.photo.position, added.count) == (2, 3)


async def test_restart_requeues_cases_left_submitted(database: Database) -> None:
    await accept_terms(database, USER)
    public_id = await case_with_photos(database, USER, 1)
    await database.run(cases.mark_submitted, public_id, now=T0)
    assert await database.run(cases.requeue_interrupted, now=T0) == 1
    assert await database.run(cases.claim_due_retries, WORKER, now=T0) == [public_id]
    assert (await database.run(cases.get_case, public_id)).status is CaseStatus.PENDING_RETRY


async def test_recent_cases_newest_first_and_only_the_persons(database: Database) -> None:
    ids = []
    for day in range(3):
        case = await database.run(cases.create_case, USER, now=T0 + dt.timedelta(days=day))
        await database.run(cases.cancel_case, case.public_id, now=T0 + dt.timedelta(days=day))
        ids.append(case.public_id)
    await database.run(cases.create_case, USER + 1)
    recent = await database.run(cases.recent_cases, USER, limit=2)
    assert [c.public_id for c in recent] == [ids[2], ids[1]]


async def test_unknown_case_is_reported(database: Database) -> None:
    with pytest.raises(CaseNotFound):
        await database.run(cases.add_photo, uuid.uuid4(), photo(1))
    with pytest.raises(CaseNotFound):
        await database.run(cases.get_case, uuid.uuid4())


async def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        await database.run(cases.create_case, USER, now=dt.datetime(2025, 1, 1))


async def submitted(database: Database, telegram_user_id: int = USER) -> uuid.UUID:
    await accept_terms(database, telegram_user_id)
    public_id = await case_with_photos(database, telegram_user_id, 1)
    await database.run(cases.mark_submitted, public_id, now=T0)
    return public_id


async def test_each_upload_is_claimed_under_the_current_consent(database: Database) -> None:
    public_id = await submitted(database)
    for n in (1, 2):
        case = await database.run(cases.claim_upload, public_id, now=T0 + dt.timedelta(seconds=n))
        assert (case.uploads, case.last_upload_at) == (n, T0 + dt.timedelta(seconds=n))
    await database.run(consent.withdraw_consent, USER, chat_type="private")
    with pytest.raises(ConsentRequired):
        await database.run(cases.claim_upload, public_id)
    assert (await database.run(cases.get_case, public_id)).uploads == 2


async def test_only_a_submitted_case_can_be_uploaded(database: Database) -> None:
    await accept_terms(database, USER)
    public_id = await case_with_photos(database, USER, 1)
    with pytest.raises(CaseStateError):
        await database.run(cases.claim_upload, public_id)
    with pytest.raises(CaseNotFound):
        await database.run(cases.claim_upload, uuid.uuid4())


async def test_withdrawing_cancels_what_was_not_uploaded_and_counts_what_was(
    database: Database,
) -> None:
    queued = await submitted(database)
    await database.run(cases.set_status_message, queued, 77)
    on_the_way = await submitted(database)
    await database.run(cases.claim_upload, on_the_way)
    parked = await submitted(database)
    await database.run(cases.mark_pending_retry, parked, "502", T0, now=T0)
    other = await submitted(database, USER + 1)

    stopped = await database.run(cases.stop_unsent, USER, reason="consent withdrawn", now=T0)
    assert sorted(c.public_id for c in stopped.cancelled) == sorted([queued, parked])
    assert {c.public_id: c.status_message_id for c in stopped.cancelled}[queued] == 77
    assert [c.public_id for c in stopped.on_the_way] == [on_the_way]
    for public_id in (queued, parked):
        case = await database.run(cases.get_case, public_id)
        assert case.status is CaseStatus.CANCELLED
        assert case.last_error == "consent withdrawn"
        assert (case.photos, case.answers) == ([], None)
    assert (await database.run(cases.get_case, on_the_way)).status is CaseStatus.SUBMITTED
    assert (await database.run(cases.get_case, other)).status is CaseStatus.SUBMITTED
    with pytest.raises(CaseStateError):
        await database.run(cases.claim_upload, queued)


async def test_unreadable_answers_are_counted_until_the_case_fails(database: Database) -> None:
    public_id = await submitted(database)
    case = await database.run(
        cases.mark_pending_retry, public_id, "unreadable", T0, unreadable=True, now=T0
    )
    assert case.unreadable_answers == 1
    await database.run(cases.mark_submitted, public_id, now=T0)
    case = await database.run(cases.mark_failed, public_id, "unreadable", unreadable=True, now=T0)
    assert (case.status, case.unreadable_answers) == (CaseStatus.FAILED, 2)
    # Only a case that failed on unreadable answers may be sent again, and only on request.
    with pytest.raises(CaseStateError):
        await database.run(cases.mark_submitted, public_id)
    again = await database.run(cases.mark_submitted, public_id, again=True, now=T0)
    assert (again.status, again.unreadable_answers, again.attempts) == (
        CaseStatus.SUBMITTED,
        0,
        3,
    )


async def test_a_case_failed_for_another_reason_is_not_sent_again(database: Database) -> None:
    public_id = await submitted(database)
    await database.run(cases.mark_failed, public_id, "HTTP 400", now=T0)
    with pytest.raises(CaseStateError):
        await database.run(cases.mark_submitted, public_id, again=True)
