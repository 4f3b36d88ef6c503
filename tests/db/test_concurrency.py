"""Two tasks changing one case at once, each in units of work of its own.

On SQLite the bot's units of work run one after another; on PostgreSQL they really overlap.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.orm import Session

from bot.db import cases, consent
from bot.db.database import Database
from bot.db.errors import CaseFull, CaseStateError, ConsentRequired
from bot.db.models import CaseStatus
from tests.db.helpers import accept_terms, case_with_photos, photo

USER = 6_000_000_042


async def _add_many(database: Database, public_id: uuid.UUID, tag: str, count: int) -> list[str]:
    """Adds `count` photos one unit of work at a time; returns the unique ids that were taken."""
    taken = []
    for n in range(count):
        ref = photo(n, tag)
        try:
            added = await database.run(cases.add_photo, public_id, ref)
            assert not added.duplicate
            # Let the other task's next unit of work start before this one's next.
            await asyncio.sleep(0)
        except CaseFull:
            continue
        taken.append(ref.file_unique_id)
    return taken


async def test_concurrent_photo_adds_lose_nothing_and_stop_at_five(database: Database) -> None:
    for _ in range(3):
        case = await database.run(cases.create_case, USER)
        results = await asyncio.gather(
            _add_many(database, case.public_id, "a", 4),
            _add_many(database, case.public_id, "b", 4),
        )
        accepted = [uid for result in results for uid in result]
        stored = (await database.run(cases.get_case, case.public_id)).photos
        # Every add that reported success is stored, and never more than five.
        assert len(accepted) == 5
        assert sorted(p.file_unique_id for p in stored) == sorted(accepted)
        assert [p.position for p in stored] == [1, 2, 3, 4, 5]
        await database.run(cases.cancel_case, case.public_id)


async def test_concurrent_first_photos_of_a_new_person(database: Database) -> None:
    # Two updates from someone never seen before: one profile, one case, no error.
    async def start() -> uuid.UUID | None:
        try:
            case = await database.run(cases.create_case, USER + 1)
            return case.public_id
        except cases.CaseAlreadyOpen as exc:
            return exc.public_id

    first, second = await asyncio.gather(start(), start())
    assert first is not None and first == second


async def test_an_upload_claim_racing_a_withdrawal_is_either_refused_or_on_its_way(
    database: Database,
) -> None:
    """Never both: a claim that succeeded leaves its case on its way, not cancelled."""
    person = USER + 2
    for n in range(6):
        await accept_terms(database, person)
        public_id = await case_with_photos(database, person, 1)
        await database.run(cases.mark_submitted, public_id)

        async def claim(public_id: uuid.UUID = public_id) -> bool:
            try:
                await database.run(cases.claim_upload, public_id)
            except (CaseStateError, ConsentRequired):
                return False
            return True

        def withdrawing(session: Session) -> cases.Stopped:
            # One unit of work, as /withdraw does it.
            consent.withdraw_consent(session, person, chat_type="private")
            return cases.stop_unsent(session, person, reason="withdrawn")

        async def withdraw() -> cases.Stopped:
            return await database.run(withdrawing)

        if n % 2:
            claimed, stopped = await asyncio.gather(claim(), withdraw())
        else:
            stopped, claimed = await asyncio.gather(withdraw(), claim())
        case = await database.run(cases.get_case, public_id)
        if claimed:
            assert case.status is CaseStatus.SUBMITTED and case.uploads == 1
            assert [c.public_id for c in stopped.on_the_way] == [public_id]
            await database.run(cases.drop_unconsented, public_id, "test over")
        else:
            assert case.status is CaseStatus.CANCELLED and case.uploads == 0
            assert [c.public_id for c in stopped.cancelled] == [public_id]
