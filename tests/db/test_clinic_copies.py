"""The clinic's copies: recorded with the erasure or purge that removes their only record,
claimed by one worker at a time; and a post refused at the moment it would be made."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import cases, clinic_copies, consent
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.erasure import erase_user
from bot.db.models import ClinicCopy, ClinicCopyReason, TriageDecisionKind, TriageDirection
from bot.db.retention import purge_expired_cases
from bot.domain.questionnaire import Questionnaire
from tests.db.helpers import (
    DIAGNOSIS,
    QUESTIONNAIRE,
    accept_terms,
    add_checked_photo,
    case_with_photos,
    set_answers,
)

PERSON = 8_765_432_120
GROUP = -4_000_000_007


async def _completed(
    database: Database,
    questionnaire: Questionnaire = QUESTIONNAIRE,
    *,
    at: dt.datetime | None = None,
) -> tuple[uuid.UUID, int]:
    await accept_terms(database, PERSON)
    public_id = await case_with_photos(database, PERSON, 2)
    await database.run(set_answers, public_id, questionnaire, now=at)
    await database.run(cases.mark_submitted, public_id, now=at)
    case = await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=at)
    post = await database.run(store.enqueue, case, "within_days", now=at)
    return public_id, post.id


def _all_copies(session: Session) -> list[ClinicCopy]:
    return list(session.scalars(select(ClinicCopy).order_by(ClinicCopy.id)))


async def _copies(database: Database) -> list[ClinicCopy]:
    return await database.run(_all_copies)


async def test_a_post_is_claimed_only_while_its_person_consents(database: Database) -> None:
    public_id, post_id = await _completed(database)
    assert await database.run(store.claim_post, post_id, chat_id=GROUP) is not None
    await database.run(store.record_album, post_id, public_id, [21, 22], chat_id=GROUP)
    # Withdrawn between the album and the card: the card is never claimed, the half post's
    # album is queued for deletion, and the post is settled instead of retried.
    await database.run(consent.withdraw_consent, PERSON, chat_type="private")
    assert await database.run(store.claim_post, post_id, chat_id=GROUP) is None
    post = await database.run(store.get_post, post_id)
    assert post is not None and post.refused_at is not None and post.album_message_ids is None
    assert "consent required" in (post.last_error or "")
    assert await database.run(store.unposted) == [] and await database.run(store.undecided) == []
    assert await database.run(store.post_of_case, public_id) is None
    (copy,) = await _copies(database)
    assert (copy.reason, copy.message_ids, copy.notify_chat_id) == (
        ClinicCopyReason.WITHDRAWN,
        [21, 22],
        None,
    )
    # Agreeing again later does not bring the settled post back.
    await accept_terms(database, PERSON)
    assert await database.run(store.claim_post, post_id, chat_id=GROUP) is None


async def test_a_childs_intimate_photos_are_never_posted(database: Database) -> None:
    child = Questionnaire(birth_year=utcnow().year - 9, body_site="genital")
    _, post_id = await _completed(database, child)
    assert await database.run(store.claim_post, post_id, chat_id=GROUP) is None
    post = await database.run(store.get_post, post_id)
    assert post is not None and post.refused_at is not None
    assert "intimate" in (post.last_error or "")
    assert await _copies(database) == []  # nothing had been posted


async def test_an_album_sent_for_a_case_erased_meanwhile_is_queued(database: Database) -> None:
    public_id, post_id = await _completed(database)
    assert await database.run(store.claim_post, post_id, chat_id=GROUP) is not None
    # /delete while the album is on its way
    erasure = await database.run(erase_user, PERSON, clinic_chat_id=GROUP)
    assert erasure.clinic_copies == 0  # nothing was recorded as posted yet
    await database.run(store.record_album, post_id, public_id, [31, 32], chat_id=GROUP)
    await database.run(store.record_card, post_id, public_id, 33, chat_id=GROUP)
    assert [(c.message_ids, c.card_ids) for c in await _copies(database)] == [
        ([31, 32], []),
        ([33], [33]),
    ]


async def test_erasure_records_every_round_and_relayed_message(database: Database) -> None:
    public_id, post_id = await _completed(database)
    await database.run(store.record_album, post_id, public_id, [1, 2], chat_id=GROUP)
    await database.run(store.record_card, post_id, public_id, 3, chat_id=GROUP)
    await database.run(store.decide, post_id, 1, 0, TriageDecisionKind.BETTER_PHOTOS, 5, "Dr A")
    await database.run(store.reopen_for_photos, post_id, 1, 1, PERSON)
    await database.run(add_checked_photo, public_id, cases.PhotoRef("f9", "u9"))
    await database.run(cases.mark_submitted, public_id)
    case = await database.run(cases.mark_completed, public_id, DIAGNOSIS)
    await database.run(store.enqueue, case, "within_days")
    await database.run(store.record_album, post_id, public_id, [7], chat_id=GROUP)
    await database.run(store.record_card, post_id, public_id, 8, chat_id=GROUP)
    await database.run(
        store.record_message, case.id, TriageDirection.TO_PERSON, "Bleeds?", group_message_id=5
    )
    await database.run(
        store.record_message, case.id, TriageDirection.FROM_PERSON, "No", group_message_id=6
    )
    await database.run(erase_user, PERSON, clinic_chat_id=GROUP)
    (copy,) = await _copies(database)
    assert copy.case_public_id == public_id and copy.chat_id == GROUP
    assert copy.reason is ClinicCopyReason.ERASED and copy.notify_chat_id == PERSON
    assert copy.message_ids == [5, 6, 1, 2, 7, 3, 8] and copy.card_ids == [3, 8]
    # Without a clinic group nothing is recorded (and nothing could be deleted).
    await _completed(database)
    assert (await database.run(erase_user, PERSON)).clinic_copies == 0
    assert len(await _copies(database)) == 1


async def test_purge_records_the_copies_of_expired_cases_only(database: Database) -> None:
    long_ago = utcnow() - dt.timedelta(days=100)
    old_id, old_post = await _completed(database, at=long_ago)
    new_id, new_post = await _completed(database)
    for public_id, post_id, card in ((old_id, old_post, 3), (new_id, new_post, 4)):
        await database.run(store.record_card, post_id, public_id, card, chat_id=GROUP)
    assert await database.run(purge_expired_cases, 90, clinic_chat_id=GROUP) == 1
    assert await database.run(purge_expired_cases, 90, clinic_chat_id=GROUP) == 0
    (copy,) = await _copies(database)
    assert (copy.case_public_id, copy.reason, copy.message_ids) == (
        old_id,
        ClinicCopyReason.EXPIRED,
        [3],
    )


async def test_one_worker_at_a_time_and_a_dead_ones_row_comes_back(database: Database) -> None:

    def add(session: Session) -> int:
        copy = clinic_copies.add_copy(session, uuid.uuid4(), ClinicCopyReason.ERASED, GROUP, [1])
        session.flush()
        return copy.id

    copy_id = await database.run(add)
    now = utcnow()
    assert await database.run(clinic_copies.unclaimed, now=now) == [copy_id]
    assert await database.run(clinic_copies.claim, copy_id, now=now) is not None
    assert await database.run(clinic_copies.claim, copy_id, now=now) is None
    assert await database.run(clinic_copies.unclaimed, now=now) == []
    after = now + clinic_copies.CLAIM_FOR + dt.timedelta(seconds=1)
    assert await database.run(clinic_copies.unclaimed, now=after) == [copy_id]
    assert await database.run(clinic_copies.pending) == 1
    await database.run(clinic_copies.finish, copy_id)
    assert await database.run(clinic_copies.pending) == 0
