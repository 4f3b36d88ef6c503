"""Stored languages asked for together are read together, and each reader gets its own."""

from __future__ import annotations

import asyncio

import pytest

from bot.i18n.lookups import LanguageLookups

STORED = {1: "ko", 2: "es"}


class CountingReads:
    def __init__(self, fail: bool = False) -> None:
        self.queries: list[list[int]] = []
        self.fail = fail

    async def __call__(self, ids: list[int]) -> dict[int, str]:
        self.queries.append(sorted(ids))
        await asyncio.sleep(0.01)  # a database round trip
        if self.fail:
            raise RuntimeError("database is down")
        return {i: STORED[i] for i in ids if i in STORED}


async def test_a_burst_of_readers_makes_one_query_and_each_gets_its_own_answer() -> None:
    reads = CountingReads()
    lookups = LanguageLookups(reads)
    people = [1, 2, 3, *range(100, 197)]
    answers = await asyncio.gather(*(lookups.read(person) for person in people))
    assert reads.queries == [sorted(people)]
    assert answers[:3] == ["ko", "es", None]
    assert set(answers[3:]) == {None}


async def test_the_same_person_asked_for_twice_at_once_is_read_once() -> None:
    reads = CountingReads()
    lookups = LanguageLookups(reads)
    assert await asyncio.gather(lookups.read(1), lookups.read(1)) == ["ko", "ko"]
    assert reads.queries == [[1]]


async def test_reads_that_come_one_after_another_are_separate_queries() -> None:
    reads = CountingReads()
    lookups = LanguageLookups(reads)
    assert await lookups.read(1) == "ko"
    assert await lookups.read(2) == "es"
    assert reads.queries == [[1], [2]]


async def test_a_failed_query_fails_each_reader_and_the_next_read_tries_again() -> None:
    reads = CountingReads(fail=True)
    lookups = LanguageLookups(reads)
    results = await asyncio.gather(lookups.read(1), lookups.read(2), return_exceptions=True)
    assert [str(r) for r in results] == ["database is down", "database is down"]
    reads.fail = False
    assert await lookups.read(2) == "es"
    assert len(reads.queries) == 2


async def test_a_reader_that_gives_up_does_not_disturb_the_others() -> None:
    reads = CountingReads()
    lookups = LanguageLookups(reads)
    impatient = asyncio.create_task(lookups.read(1))
    patient = asyncio.create_task(lookups.read(2))
    await asyncio.sleep(0.001)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert await patient == "es"
