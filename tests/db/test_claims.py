"""Work claimed with a lease (bot/db/claims.py), by two processes at once: each with an engine
of its own on the same database, as two bot processes have. On PostgreSQL the claims really
overlap; on SQLite they take turns at the write lock."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.app import _at_start
from bot.db import cases, delivery
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.claims import Claim, give_back, take_lease
from bot.db.database import Database
from bot.db.errors import CaseStateError
from bot.db.models import CaseStatus
from tests.db.helpers import DEFAULT_TERMS, DIAGNOSIS, accept_terms, case_with_photos

FIRST = 8_100_000_001
LEASE = dt.timedelta(seconds=30)
A = Claim("process-a", LEASE)
B = Claim("process-b", LEASE)
GROUP = -4_000_000_002
CASES = 8


@pytest.fixture
async def other(database: Database) -> AsyncIterator[Database]:
    """A second process's view of the same database (an engine and connections of its own)."""
    async with Database.open(database.url) as second:
        yield second


async def _parked(database: Database, count: int, now: dt.datetime) -> list[uuid.UUID]:
    """`count` cases of different people, parked for a retry due at `now`."""
    parked = []
    for n in range(count):
        await accept_terms(database, FIRST + n)
        public_id = await case_with_photos(database, FIRST + n, 1)
        await database.run(cases.mark_submitted, public_id, now=now)
        await database.run(cases.mark_pending_retry, public_id, "502", now, now=now)
        parked.append(public_id)
    return parked


async def _claim_all(database: Database, claim: Claim, now: dt.datetime) -> list[uuid.UUID]:
    """The retry job's storage side, two at a time until nothing is left for this process:
    claim, then submit each claimed case again."""
    taken: list[uuid.UUID] = []
    while batch := await database.run(cases.claim_due_retries, claim, now=now, limit=2):
        for public_id in batch:
            await database.run(cases.mark_submitted, public_id, claim=claim, now=now)
            await asyncio.sleep(0)
        taken.extend(batch)
    return taken


async def test_two_processes_claiming_at_once_never_both_get_a_case(
    database: Database, other: Database
) -> None:
    now = utcnow()
    parked = await _parked(database, CASES, now)
    by_a, by_b = await asyncio.gather(_claim_all(database, A, now), _claim_all(other, B, now))
    assert not set(by_a) & set(by_b)
    assert sorted(by_a + by_b) == sorted(parked)
    # Each is then sent by its claimant only: the other's upload is refused.
    public_id, stranger = (by_b[0], A) if by_b else (by_a[0], B)
    with pytest.raises(CaseStateError, match=cases.CLAIMED_ELSEWHERE):
        await database.run(cases.claim_upload, public_id, claim=stranger)


async def test_an_expired_claim_is_taken_again_and_the_stalled_process_is_refused(
    database: Database, other: Database
) -> None:
    now = utcnow()
    (public_id,) = await _parked(database, 1, now)
    assert await database.run(cases.claim_due_retries, A, now=now) == [public_id]
    await database.run(cases.mark_submitted, public_id, claim=A, now=now)
    # A stalls (frozen, or its connection lost): within its lease nobody takes the case over.
    within = now + LEASE / 2
    assert await other.run(cases.park_orphans, set(), idle_since=within, now=within) == 0
    assert await other.run(cases.requeue_interrupted, now=within) == 0
    # After it, B parks the case and claims it again, and sends it.
    after = now + LEASE + dt.timedelta(seconds=1)
    assert await other.run(cases.park_orphans, set(), idle_since=after, now=after) == 1
    assert await other.run(cases.claim_due_retries, B, now=after) == [public_id]
    await other.run(cases.mark_submitted, public_id, claim=B, now=after)
    # A, going on, may not upload it any more, nor record an answer it got meanwhile.
    with pytest.raises(CaseStateError, match=cases.CLAIMED_ELSEWHERE):
        await database.run(cases.claim_upload, public_id, claim=A, now=after)
    with pytest.raises(CaseStateError, match=cases.CLAIMED_ELSEWHERE):
        await database.run(cases.mark_completed, public_id, DIAGNOSIS, claim=A, now=after)
    await other.run(cases.claim_upload, public_id, claim=B, now=after)
    done = await other.run(cases.mark_completed, public_id, DIAGNOSIS, claim=B, now=after)
    assert done.status is CaseStatus.COMPLETED and done.claimed_by is None


async def _completed(database: Database, count: int, now: dt.datetime) -> list[uuid.UUID]:
    done = []
    for public_id in await _parked(database, count, now):
        await database.run(cases.mark_submitted, public_id, now=now)
        await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=now)
        done.append(public_id)
    return done


async def _deliver_all(database: Database, claim: Claim, now: dt.datetime) -> list[uuid.UUID]:
    """The redelivery job's storage side: claim what is due, then each try's own claim."""
    tried = []
    for public_id in await database.run(delivery.claim_due_deliveries, claim, now=now):
        plan = await database.run(
            delivery.claim_delivery,
            public_id,
            retry_in=lambda attempt: dt.timedelta(minutes=attempt),
            max_attempts=5,
            late_after=dt.timedelta(minutes=1),
            claim=claim,
            now=now,
        )
        if plan is not None:
            tried.append(public_id)
        await asyncio.sleep(0)
    return tried


async def test_two_processes_never_deliver_one_result_twice(
    database: Database, other: Database
) -> None:
    now = utcnow()
    done = await _completed(database, CASES, now)
    tried_a, tried_b = await asyncio.gather(
        _deliver_all(database, A, now), _deliver_all(other, B, now)
    )
    assert not set(tried_a) & set(tried_b)
    assert sorted(tried_a + tried_b) == sorted(done)
    # A try of the other process while one is claimed is no try at all.
    public_id = (tried_a or tried_b)[0]
    holder = B if public_id in tried_a else A
    plan = await database.run(
        delivery.claim_delivery,
        public_id,
        retry_in=lambda attempt: dt.timedelta(0),
        max_attempts=5,
        late_after=dt.timedelta(minutes=1),
        claim=holder,
        now=now,
    )
    assert plan is None


async def test_two_processes_never_post_one_case_to_the_clinic_twice(
    database: Database, other: Database
) -> None:
    now = utcnow()
    posts = []
    for public_id in await _completed(database, 4, now):
        case = await database.run(cases.get_case, public_id)
        posts.append((await database.run(store.enqueue, case, "within_days")).id)
    by_a, by_b = await asyncio.gather(
        database.run(store.claim_unposted, A), other.run(store.claim_unposted, B)
    )
    assert not set(by_a) & set(by_b) and sorted(by_a + by_b) == sorted(posts)
    post_id = (by_a or by_b)[0]
    holder, stranger = (A, B) if post_id in by_a else (B, A)
    assert await other.run(store.claim_post, post_id, chat_id=GROUP, claim=stranger) is None
    assert await database.run(store.claim_post, post_id, chat_id=GROUP, claim=holder) is not None


async def test_one_purge_at_a_time(database: Database, other: Database) -> None:
    took = await asyncio.gather(
        database.run(take_lease, "retention-purge", A), other.run(take_lease, "retention-purge", B)
    )
    assert sorted(took) == [False, True]
    holder, waiting = (A, other) if took[0] else (B, database)
    waiter = B if holder is A else A
    await (database if holder is A else other).run(give_back, "retention-purge", holder.holder)
    assert await waiting.run(take_lease, "retention-purge", waiter)


async def test_a_new_leader_takes_over_the_previous_leaders_claims_at_once(
    database: Database,
) -> None:
    """Only the leader works: a live claim another worker holds when a process comes to lead
    is a dead or lapsed leader's, and its case is retried now, not after the claim runs out.
    The new leader's own lease is kept."""
    now = utcnow()
    (public_id,) = await _parked(database, 1, now)
    await database.run(cases.claim_due_retries, A, now=now)
    await database.run(cases.mark_submitted, public_id, claim=A, now=now)
    assert await database.run(take_lease, "leader", B)
    parked = await database.run(_at_start, DEFAULT_TERMS, B.holder)
    assert parked == 1
    assert not await database.run(take_lease, "leader", A)
