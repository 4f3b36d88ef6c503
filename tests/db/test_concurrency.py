"""Two tasks adding photos to one case at once, each with its own session."""

from __future__ import annotations

import asyncio
import uuid

from bot.db import cases, consent
from bot.db.errors import CaseFull, CaseStateError, ConsentRequired
from bot.db.models import CaseStatus
from tests.db.helpers import Sessions, accept_terms, case_with_photos, photo

USER = 6_000_000_042


async def _add_many(sessions: Sessions, public_id: uuid.UUID, tag: str, count: int) -> list[str]:
    """Adds `count` photos one unit of work at a time; returns the unique ids that were taken."""
    taken = []
    for n in range(count):
        ref = photo(n, tag)
        try:
            async with sessions.begin() as session:
                added = await cases.add_photo(session, public_id, ref)
                assert not added.duplicate
                # Yield inside the transaction so the other task's write really overlaps.
                await asyncio.sleep(0)
        except CaseFull:
            continue
        taken.append(ref.file_unique_id)
    return taken


async def test_concurrent_photo_adds_lose_nothing_and_stop_at_five(sessions: Sessions) -> None:
    for _ in range(3):
        async with sessions.begin() as session:
            case = await cases.create_case(session, USER)
        results = await asyncio.gather(
            _add_many(sessions, case.public_id, "a", 4),
            _add_many(sessions, case.public_id, "b", 4),
        )
        accepted = [uid for result in results for uid in result]
        async with sessions() as session:
            stored = (await cases.get_case(session, case.public_id)).photos
        # Every add that reported success is stored, and never more than five.
        assert len(accepted) == 5
        assert sorted(p.file_unique_id for p in stored) == sorted(accepted)
        assert [p.position for p in stored] == [1, 2, 3, 4, 5]
        async with sessions.begin() as session:
            await cases.cancel_case(session, case.public_id)


async def test_concurrent_first_photos_of_a_new_person(sessions: Sessions) -> None:
    # Two updates from someone never seen before: one profile, one case, no error.
    async def start() -> uuid.UUID | None:
        try:
            async with sessions.begin() as session:
                case = await cases.create_case(session, USER + 1)
                return case.public_id
        except cases.CaseAlreadyOpen as exc:
            return exc.public_id

    first, second = await asyncio.gather(start(), start())
    assert first is not None and first == second


async def test_an_upload_claim_racing_a_withdrawal_is_either_refused_or_on_its_way(
    sessions: Sessions,
) -> None:
    """Never both: a claim that succeeded leaves its case on its way, not cancelled."""
    person = USER + 2
    for n in range(6):
        await accept_terms(sessions, person)
        public_id = await case_with_photos(sessions, person, 1)
        async with sessions.begin() as session:
            await cases.mark_submitted(session, public_id)

        async def claim(public_id: uuid.UUID = public_id) -> bool:
            try:
                async with sessions.begin() as session:
                    await cases.claim_upload(session, public_id)
                    await asyncio.sleep(0)
            except (CaseStateError, ConsentRequired):
                return False
            return True

        async def withdraw() -> cases.Stopped:
            async with sessions.begin() as session:
                await consent.withdraw_consent(session, person, chat_type="private")
                await asyncio.sleep(0)
                return await cases.stop_unsent(session, person, reason="withdrawn")

        if n % 2:
            claimed, stopped = await asyncio.gather(claim(), withdraw())
        else:
            stopped, claimed = await asyncio.gather(withdraw(), claim())
        async with sessions() as session:
            case = await cases.get_case(session, public_id)
        if claimed:
            assert case.status is CaseStatus.SUBMITTED and case.uploads == 1
            assert [c.public_id for c in stopped.on_the_way] == [public_id]
            async with sessions.begin() as session:
                await cases.drop_unconsented(session, public_id, "test over")
        else:
            assert case.status is CaseStatus.CANCELLED and case.uploads == 0
            assert [c.public_id for c in stopped.cancelled] == [public_id]
