"""Leadership as a lease row (bot/db/leadership.py), between two processes' engines."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.db.claims import Claim
from bot.db.database import Database
from bot.db.leadership import lead, step_down

LEASE = dt.timedelta(seconds=0.6)
A = Claim("process-a", LEASE)
B = Claim("process-b", LEASE)


@pytest.fixture
async def other(database: Database) -> AsyncIterator[Database]:
    async with Database.open(database.url) as second:
        yield second


async def _lead_when_free(database: Database, claim: Claim) -> float:
    """Tries every 50 ms, as a standby does, for 20 leases at most; how long it waited."""
    started = asyncio.get_running_loop().time()
    for _ in range(int(20 * LEASE.total_seconds() / 0.05)):
        if await database.run(lead, claim):
            return asyncio.get_running_loop().time() - started
        await asyncio.sleep(0.05)
    raise AssertionError("the standby never took over")


async def test_one_leads_the_other_takes_over_only_after_the_lease(
    database: Database, other: Database
) -> None:
    took = await asyncio.gather(database.run(lead, A), other.run(lead, B))
    assert sorted(took) == [False, True]
    leader, standby, standby_claim = (database, other, B) if took[0] else (other, database, A)
    holder = A if took[0] else B
    # The leader renews: the standby never gets in while it does.
    for _ in range(3):
        assert await leader.run(lead, holder)
        assert not await standby.run(lead, standby_claim)
    # The leader goes silent (frozen, or cut off from the database): the standby takes over
    # once the lease has run out, not before.
    waited = await _lead_when_free(standby, standby_claim)
    assert waited >= LEASE.total_seconds() * 0.5
    # The old leader, back, does not lead any more.
    assert not await leader.run(lead, holder)


async def test_a_leader_that_steps_down_hands_over_at_once(
    database: Database, other: Database
) -> None:
    assert await database.run(lead, A)
    await database.run(step_down, A.holder)
    assert await other.run(lead, B)
