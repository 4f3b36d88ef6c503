"""The clinic's copies: recorded with the erasure or purge that removes their only record,
claimed by one worker at a time; and a post refused at the moment it would be made."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from bot.db import cases, clinic_copies, consent
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.erasure import erase_user
from bot.db.models import ClinicCopy, ClinicCopyReason, TriageDecisionKind, TriageDirection
from bot.db.retention import purge_expired_cases
from bot.questionnaire import Questionnaire
from tests.db.helpers import DIAGNOSIS, QUESTIONNAIRE, Sessions, accept_terms, case_with_photos

PERSON = 8_765_432_120
GROUP = -4_000_000_007


async def _completed(
    sessions: Sessions,
    questionnaire: Questionnaire = QUESTIONNAIRE,
    *,
    at: dt.datetime | None = None,
) -> tuple[uuid.UUID, int]:
    await accept_terms(sessions, PERSON)
    public_id = await case_with_photos(sessions, PERSON, 2)
    async with sessions.begin() as session:
        await cases.set_answers(session, public_id, questionnaire, now=at)
        await cases.mark_submitted(session, public_id, now=at)
        case = await cases.mark_completed(session, public_id, DIAGNOSIS, now=at)
        post = await store.enqueue(session, case, "see_doctor", now=at)
        return public_id, post.id


async def _copies(sessions: Sessions) -> list[ClinicCopy]:
    async with sessions() as session:
        return list(await session.scalars(select(ClinicCopy).order_by(ClinicCopy.id)))


async def test_a_post_is_claimed_only_while_its_person_consents(sessions: Sessions) -> None:
    public_id, post_id = await _completed(sessions)
    async with sessions.begin() as session:
        assert await store.claim_post(session, post_id, chat_id=GROUP) is not None
        await store.record_album(session, post_id, public_id, [21, 22], chat_id=GROUP)
    # Withdrawn between the album and the card: the card is never claimed, the half post's
    # album is queued for deletion, and the post is settled instead of retried.
    async with sessions.begin() as session:
        await consent.withdraw_consent(session, PERSON, chat_type="private")
    async with sessions.begin() as session:
        assert await store.claim_post(session, post_id, chat_id=GROUP) is None
    async with sessions() as session:
        post = await store.get_post(session, post_id)
        assert post is not None and post.refused_at is not None and post.album_message_ids is None
        assert "consent required" in (post.last_error or "")
        assert await store.unposted(session) == [] and await store.undecided(session) == []
        assert await store.post_of_case(session, public_id) is None
    (copy,) = await _copies(sessions)
    assert (copy.reason, copy.message_ids, copy.notify_chat_id) == (
        ClinicCopyReason.WITHDRAWN,
        [21, 22],
        None,
    )
    # Agreeing again later does not bring the settled post back.
    await accept_terms(sessions, PERSON)
    async with sessions.begin() as session:
        assert await store.claim_post(session, post_id, chat_id=GROUP) is None


async def test_a_childs_intimate_photos_are_never_posted(sessions: Sessions) -> None:
    child = Questionnaire(birth_year=utcnow().year - 9, body_site="genital")
    _, post_id = await _completed(sessions, child)
    async with sessions.begin() as session:
        assert await store.claim_post(session, post_id, chat_id=GROUP) is None
    async with sessions() as session:
        post = await store.get_post(session, post_id)
        assert post is not None and post.refused_at is not None
        assert "intimate" in (post.last_error or "")
    assert await _copies(sessions) == []  # nothing had been posted


async def test_an_album_sent_for_a_case_erased_meanwhile_is_queued(sessions: Sessions) -> None:
    public_id, post_id = await _completed(sessions)
    async with sessions.begin() as session:
        assert await store.claim_post(session, post_id, chat_id=GROUP) is not None
    async with sessions.begin() as session:  # /delete while the album is on its way
        erasure = await erase_user(session, PERSON, clinic_chat_id=GROUP)
    assert erasure.clinic_copies == 0  # nothing was recorded as posted yet
    async with sessions.begin() as session:
        await store.record_album(session, post_id, public_id, [31, 32], chat_id=GROUP)
        await store.record_card(session, post_id, public_id, 33, chat_id=GROUP)
    assert [(c.message_ids, c.card_ids) for c in await _copies(sessions)] == [
        ([31, 32], []),
        ([33], [33]),
    ]


async def test_erasure_records_every_round_and_relayed_message(sessions: Sessions) -> None:
    public_id, post_id = await _completed(sessions)
    async with sessions.begin() as session:
        await store.record_album(session, post_id, public_id, [1, 2], chat_id=GROUP)
        await store.record_card(session, post_id, public_id, 3, chat_id=GROUP)
        await store.decide(session, post_id, 1, 0, TriageDecisionKind.BETTER_PHOTOS, 5, "Dr A")
        await store.reopen_for_photos(session, post_id, 1, 1, PERSON)
        await cases.add_photo(session, public_id, cases.PhotoRef("f9", "u9"))
        await cases.mark_submitted(session, public_id)
        case = await cases.mark_completed(session, public_id, DIAGNOSIS)
        await store.enqueue(session, case, "see_doctor")
        await store.record_album(session, post_id, public_id, [7], chat_id=GROUP)
        await store.record_card(session, post_id, public_id, 8, chat_id=GROUP)
        await store.record_message(
            session, case.id, TriageDirection.TO_PERSON, "Bleeds?", group_message_id=5
        )
        await store.record_message(
            session, case.id, TriageDirection.FROM_PERSON, "No", group_message_id=6
        )
    async with sessions.begin() as session:
        await erase_user(session, PERSON, clinic_chat_id=GROUP)
    (copy,) = await _copies(sessions)
    assert copy.case_public_id == public_id and copy.chat_id == GROUP
    assert copy.reason is ClinicCopyReason.ERASED and copy.notify_chat_id == PERSON
    assert copy.message_ids == [5, 6, 1, 2, 7, 3, 8] and copy.card_ids == [3, 8]
    # Without a clinic group nothing is recorded (and nothing could be deleted).
    await _completed(sessions)
    async with sessions.begin() as session:
        assert (await erase_user(session, PERSON)).clinic_copies == 0
    assert len(await _copies(sessions)) == 1


async def test_purge_records_the_copies_of_expired_cases_only(sessions: Sessions) -> None:
    long_ago = utcnow() - dt.timedelta(days=100)
    old_id, old_post = await _completed(sessions, at=long_ago)
    new_id, new_post = await _completed(sessions)
    async with sessions.begin() as session:
        for public_id, post_id, card in ((old_id, old_post, 3), (new_id, new_post, 4)):
            await store.record_card(session, post_id, public_id, card, chat_id=GROUP)
    async with sessions.begin() as session:
        assert await purge_expired_cases(session, 90, clinic_chat_id=GROUP) == 1
        assert await purge_expired_cases(session, 90, clinic_chat_id=GROUP) == 0
    (copy,) = await _copies(sessions)
    assert (copy.case_public_id, copy.reason, copy.message_ids) == (
        old_id,
        ClinicCopyReason.EXPIRED,
        [3],
    )


async def test_one_worker_at_a_time_and_a_dead_ones_row_comes_back(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        copy = clinic_copies.add_copy(session, uuid.uuid4(), ClinicCopyReason.ERASED, GROUP, [1])
        await session.flush()
        copy_id = copy.id
    now = utcnow()
    async with sessions.begin() as session:
        assert await clinic_copies.unclaimed(session, now=now) == [copy_id]
        assert await clinic_copies.claim(session, copy_id, now=now) is not None
    async with sessions.begin() as session:
        assert await clinic_copies.claim(session, copy_id, now=now) is None
        assert await clinic_copies.unclaimed(session, now=now) == []
        after = now + clinic_copies.CLAIM_FOR + dt.timedelta(seconds=1)
        assert await clinic_copies.unclaimed(session, now=after) == [copy_id]
        assert await clinic_copies.pending(session) == 1
        await clinic_copies.finish(session, copy_id)
        assert await clinic_copies.pending(session) == 0
