"""A case through its life, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from bot.db import cases, consent, users
from bot.db.errors import CaseAlreadyOpen, CaseFull, CaseNotFound, CaseStateError, ConsentRequired
from bot.db.models import CaseStatus, ConsentDecision, Subject
from bot.questionnaire import Questionnaire
from tests.db.helpers import (
    DIAGNOSIS,
    QUESTIONNAIRE,
    Sessions,
    accept_terms,
    case_with_photos,
    photo,
)

USER = 5_123_456_789
T0 = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


async def test_new_case_starts_collecting_for_a_new_person(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        case = await cases.create_case(session, USER, language="en", now=T0)
    assert case.status is CaseStatus.COLLECTING
    assert isinstance(case.public_id, uuid.UUID)
    assert case.subject is Subject.OWN
    assert case.photos == []
    assert case.created_at == T0 and case.created_at.tzinfo is not None
    async with sessions() as session:
        user = await users.get_user(session, USER)
        assert user is not None and user.language == "en" and user.first_seen == T0
        assert (await cases.open_case(session, USER)) is not None


async def test_only_one_case_is_collected_at_a_time(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        first = await cases.create_case(session, USER)
    async with sessions.begin() as session:
        with pytest.raises(CaseAlreadyOpen) as caught:
            await cases.create_case(session, USER)
    assert caught.value.public_id == first.public_id
    async with sessions.begin() as session:
        await cases.cancel_case(session, first.public_id)
    async with sessions.begin() as session:
        second = await cases.create_case(session, USER)
    assert second.public_id != first.public_id


async def test_photos_take_positions_and_a_sixth_is_refused(sessions: Sessions) -> None:
    public_id = await case_with_photos(sessions, USER, 4)
    async with sessions.begin() as session:
        added = await cases.add_photo(session, public_id, photo(5))
    assert (added.duplicate, added.count, added.photo.position) == (False, 5, 5)
    async with sessions.begin() as session:
        with pytest.raises(CaseFull) as caught:
            await cases.add_photo(session, public_id, photo(6))
    assert caught.value.limit == 5
    async with sessions() as session:
        case = await cases.get_case(session, public_id)
    assert [p.position for p in case.photos] == [1, 2, 3, 4, 5]
    assert [p.file_unique_id for p in case.photos[:4]] == [
        photo(n, str(USER)).file_unique_id for n in range(1, 5)
    ]
    first = case.photos[0]
    assert (first.file_size, first.width, first.height) == (100_001, 1280, 960)
    assert first.file_id == photo(1, str(USER)).file_id


async def test_the_same_photo_twice_is_kept_once(sessions: Sessions) -> None:
    public_id = await case_with_photos(sessions, USER, 2)
    async with sessions.begin() as session:
        again = await cases.add_photo(session, public_id, photo(1, str(USER)))
    assert again.duplicate and again.count == 2 and again.photo.position == 1
    async with sessions() as session:
        assert len((await cases.get_case(session, public_id)).photos) == 2


async def test_answers_and_subject_round_trip(sessions: Sessions) -> None:
    public_id = await case_with_photos(sessions, USER, 1)
    async with sessions.begin() as session:
        await cases.set_answers(session, public_id, QUESTIONNAIRE)
        await cases.set_subject(
            session, public_id, Subject.OTHER_WITH_PERMISSION, "  Grandma\n  Rose  "
        )
    async with sessions() as session:
        case = await cases.get_case(session, public_id)
    assert case.questionnaire == QUESTIONNAIRE
    assert case.subject is Subject.OTHER_WITH_PERMISSION
    assert case.patient_ref == "Grandma Rose"
    async with sessions.begin() as session:
        case = await cases.set_subject(session, public_id, Subject.OWN, "ignored")
    assert case.patient_ref is None
    async with sessions() as session:
        empty = await cases.create_case(session, USER + 1)
        assert empty.questionnaire == Questionnaire()


async def test_no_submission_without_current_consent(sessions: Sessions) -> None:
    public_id = await case_with_photos(sessions, USER, 2)
    with pytest.raises(ConsentRequired):
        async with sessions.begin() as session:
            await cases.mark_submitted(session, public_id)
    async with sessions() as session:
        case = await cases.get_case(session, public_id)
    assert case.status is CaseStatus.COLLECTING and case.consent_record_id is None

    await accept_terms(sessions, USER)
    async with sessions.begin() as session:
        await consent.withdraw_consent(session, USER, chat_type="private")
    with pytest.raises(ConsentRequired):
        async with sessions.begin() as session:
            await cases.mark_submitted(session, public_id)


async def test_a_case_without_photos_cannot_be_submitted(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    async with sessions.begin() as session:
        case = await cases.create_case(session, USER)
        with pytest.raises(CaseStateError):
            await cases.mark_submitted(session, case.public_id)


async def test_submitted_case_names_the_consent_it_was_sent_under(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    public_id = await case_with_photos(sessions, USER, 2)
    async with sessions.begin() as session:
        case = await cases.mark_submitted(session, public_id, now=T0)
        accepted = await consent.current_consent(session, USER)
    assert accepted is not None and accepted.decision is ConsentDecision.ACCEPTED
    assert case.status is CaseStatus.SUBMITTED
    assert case.consent_record_id == accepted.id
    assert (case.submitted_at, case.last_attempt_at, case.attempts) == (T0, T0, 1)
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.add_photo(session, public_id, photo(9))

    later = T0 + dt.timedelta(seconds=3)
    async with sessions.begin() as session:
        await cases.mark_completed(session, public_id, DIAGNOSIS, now=later)
    async with sessions() as session:
        done = await cases.get_case(session, public_id)
    assert done.status is CaseStatus.COMPLETED
    assert done.result == DIAGNOSIS
    assert (done.server, done.latency_s, done.completed_at) == (DIAGNOSIS.server, 2.5, later)
    assert done.telegram_user_id == USER
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.cancel_case(session, public_id)


async def test_failed_submission_waits_for_retry_then_completes(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    public_id = await case_with_photos(sessions, USER, 1)
    retry_at = T0 + dt.timedelta(minutes=5)
    async with sessions.begin() as session:
        await cases.mark_submitted(session, public_id, now=T0)
        await cases.mark_pending_retry(session, public_id, "502 Proxy Error", retry_at, now=T0)

    async with sessions() as session:
        assert await cases.due_for_retry(session, now=retry_at - dt.timedelta(seconds=1)) == []
        due = await cases.due_for_retry(session, now=retry_at)
    assert [c.public_id for c in due] == [public_id]
    assert due[0].last_error == "502 Proxy Error"
    assert due[0].telegram_user_id == USER and len(due[0].photos) == 1

    async with sessions.begin() as session:
        case = await cases.mark_submitted(session, public_id, now=retry_at)
    assert case.attempts == 2 and case.next_attempt_at is None
    async with sessions.begin() as session:
        await cases.mark_completed(session, public_id, DIAGNOSIS, now=retry_at)
    async with sessions() as session:
        case = await cases.get_case(session, public_id)
        assert case.last_error is None
        assert await cases.due_for_retry(session, now=retry_at + dt.timedelta(days=1)) == []


async def test_giving_up_marks_the_case_failed(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    public_id = await case_with_photos(sessions, USER, 1)
    async with sessions.begin() as session:
        await cases.mark_submitted(session, public_id, now=T0)
        await cases.mark_pending_retry(session, public_id, "timeout", T0, now=T0)
        case = await cases.mark_failed(session, public_id, "x" * 5000, now=T0)
    assert case.status is CaseStatus.FAILED and case.failed_at == T0
    assert case.last_error == "x" * cases.ERROR_TEXT_MAX
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.mark_submitted(session, public_id)


async def test_cancelled_case_keeps_its_time_but_not_the_persons_data(sessions: Sessions) -> None:
    public_id = await case_with_photos(sessions, USER, 2)
    async with sessions.begin() as session:
        await cases.set_subject(session, public_id, Subject.OTHER_WITH_PERMISSION, "PT-9")
        await cases.set_answers(session, public_id, QUESTIONNAIRE)
    async with sessions.begin() as session:
        case = await cases.cancel_case(session, public_id, now=T0)
    assert (case.status, case.cancelled_at) == (CaseStatus.CANCELLED, T0)
    async with sessions() as session:
        assert await cases.open_case(session, USER) is None
        stored = await cases.get_case(session, public_id)
        assert (stored.photos, stored.answers, stored.patient_ref) == ([], None, None)


async def test_a_photo_can_be_removed_and_its_place_taken_again(sessions: Sessions) -> None:
    public_id = await case_with_photos(sessions, USER, 3)
    async with sessions.begin() as session:
        assert await cases.remove_photo(session, public_id, 2)
        assert not await cases.remove_photo(session, public_id, 2)
    async with sessions.begin() as session:
        added = await cases.add_photo(session, public_id, photo(9))
    assert (added.photo.position, added.count) == (2, 3)


async def test_restart_requeues_cases_left_submitted(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    public_id = await case_with_photos(sessions, USER, 1)
    async with sessions.begin() as session:
        await cases.mark_submitted(session, public_id, now=T0)
    async with sessions.begin() as session:
        assert await cases.requeue_interrupted(session, now=T0) == 1
    async with sessions() as session:
        due = await cases.due_for_retry(session, now=T0)
    assert [c.public_id for c in due] == [public_id]
    assert due[0].status is CaseStatus.PENDING_RETRY


async def test_recent_cases_newest_first_and_only_the_persons(sessions: Sessions) -> None:
    ids = []
    for day in range(3):
        async with sessions.begin() as session:
            case = await cases.create_case(session, USER, now=T0 + dt.timedelta(days=day))
            await cases.cancel_case(session, case.public_id, now=T0 + dt.timedelta(days=day))
            ids.append(case.public_id)
    async with sessions.begin() as session:
        await cases.create_case(session, USER + 1)
    async with sessions() as session:
        recent = await cases.recent_cases(session, USER, limit=2)
    assert [c.public_id for c in recent] == [ids[2], ids[1]]


async def test_unknown_case_is_reported(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(CaseNotFound):
            await cases.add_photo(session, uuid.uuid4(), photo(1))
        with pytest.raises(CaseNotFound):
            await cases.get_case(session, uuid.uuid4())


async def test_naive_datetimes_are_refused(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(Exception, match="timezone-aware"):
            await cases.create_case(session, USER, now=dt.datetime(2025, 1, 1))


async def submitted(sessions: Sessions, telegram_user_id: int = USER) -> uuid.UUID:
    await accept_terms(sessions, telegram_user_id)
    public_id = await case_with_photos(sessions, telegram_user_id, 1)
    async with sessions.begin() as session:
        await cases.mark_submitted(session, public_id, now=T0)
    return public_id


async def test_each_upload_is_claimed_under_the_current_consent(sessions: Sessions) -> None:
    public_id = await submitted(sessions)
    for n in (1, 2):
        async with sessions.begin() as session:
            case = await cases.claim_upload(session, public_id, now=T0 + dt.timedelta(seconds=n))
        assert (case.uploads, case.last_upload_at) == (n, T0 + dt.timedelta(seconds=n))
    async with sessions.begin() as session:
        await consent.withdraw_consent(session, USER, chat_type="private")
    with pytest.raises(ConsentRequired):
        async with sessions.begin() as session:
            await cases.claim_upload(session, public_id)
    async with sessions() as session:
        assert (await cases.get_case(session, public_id)).uploads == 2


async def test_only_a_submitted_case_can_be_uploaded(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    public_id = await case_with_photos(sessions, USER, 1)
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.claim_upload(session, public_id)
    with pytest.raises(CaseNotFound):
        async with sessions.begin() as session:
            await cases.claim_upload(session, uuid.uuid4())


async def test_withdrawing_cancels_what_was_not_uploaded_and_counts_what_was(
    sessions: Sessions,
) -> None:
    queued = await submitted(sessions)
    async with sessions.begin() as session:
        await cases.set_status_message(session, queued, 77)
    on_the_way = await submitted(sessions)
    async with sessions.begin() as session:
        await cases.claim_upload(session, on_the_way)
    parked = await submitted(sessions)
    async with sessions.begin() as session:
        await cases.mark_pending_retry(session, parked, "502", T0, now=T0)
    other = await submitted(sessions, USER + 1)

    async with sessions.begin() as session:
        stopped = await cases.stop_unsent(session, USER, reason="consent withdrawn", now=T0)
    assert sorted(c.public_id for c in stopped.cancelled) == sorted([queued, parked])
    assert {c.public_id: c.status_message_id for c in stopped.cancelled}[queued] == 77
    assert [c.public_id for c in stopped.on_the_way] == [on_the_way]
    async with sessions() as session:
        for public_id in (queued, parked):
            case = await cases.get_case(session, public_id)
            assert case.status is CaseStatus.CANCELLED
            assert case.last_error == "consent withdrawn"
            assert (case.photos, case.answers) == ([], None)
        assert (await cases.get_case(session, on_the_way)).status is CaseStatus.SUBMITTED
        assert (await cases.get_case(session, other)).status is CaseStatus.SUBMITTED
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.claim_upload(session, queued)


async def test_unreadable_answers_are_counted_until_the_case_fails(sessions: Sessions) -> None:
    public_id = await submitted(sessions)
    async with sessions.begin() as session:
        case = await cases.mark_pending_retry(
            session, public_id, "unreadable", T0, unreadable=True, now=T0
        )
    assert case.unreadable_answers == 1
    async with sessions.begin() as session:
        await cases.mark_submitted(session, public_id, now=T0)
        case = await cases.mark_failed(session, public_id, "unreadable", unreadable=True, now=T0)
    assert (case.status, case.unreadable_answers) == (CaseStatus.FAILED, 2)
    # Only a case that failed on unreadable answers may be sent again, and only on request.
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.mark_submitted(session, public_id)
    async with sessions.begin() as session:
        again = await cases.mark_submitted(session, public_id, again=True, now=T0)
    assert (again.status, again.unreadable_answers, again.attempts) == (
        CaseStatus.SUBMITTED,
        0,
        3,
    )


async def test_a_case_failed_for_another_reason_is_not_sent_again(sessions: Sessions) -> None:
    public_id = await submitted(sessions)
    async with sessions.begin() as session:
        await cases.mark_failed(session, public_id, "HTTP 400", now=T0)
    with pytest.raises(CaseStateError):
        async with sessions.begin() as session:
            await cases.mark_submitted(session, public_id, again=True)
