"""Purging finished cases after the retention period."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db import cases
from bot.db.database import Database
from bot.db.retention import purge_expired_cases
from tests.db.helpers import DIAGNOSIS, accept_terms, add_checked_photo, photo

USER = 4_400_000_001
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


async def _case(database: Database, end: str, at: dt.datetime, tag: str) -> str:
    case = await database.run(cases.create_case, USER, now=at)
    await database.run(add_checked_photo, case.public_id, photo(1, tag), now=at)
    if end == "completed":
        await database.run(cases.mark_submitted, case.public_id, now=at)
        await database.run(cases.mark_completed, case.public_id, DIAGNOSIS, now=at)
    elif end == "failed":
        await database.run(cases.mark_submitted, case.public_id, now=at)
        await database.run(cases.mark_failed, case.public_id, "refused", now=at)
    elif end == "cancelled":
        await database.run(cases.cancel_case, case.public_id, now=at)
    elif end == "pending_retry":
        await database.run(cases.mark_submitted, case.public_id, now=at)
        await database.run(cases.mark_pending_retry, case.public_id, "down", at, now=at)
    return str(case.public_id)


async def test_purge_removes_only_expired_finished_cases(database: Database) -> None:
    await accept_terms(database, USER)
    old = [
        await _case(database, "completed", days_ago(91), "a"),
        await _case(database, "failed", days_ago(100), "b"),
        await _case(database, "cancelled", days_ago(365), "c"),
    ]
    kept = [
        await _case(database, "completed", days_ago(89), "d"),
        await _case(database, "pending_retry", days_ago(200), "e"),
    ]
    # Abandoned while being collected, long ago.
    old.append(await _case(database, "collecting", days_ago(120), "f"))

    assert await database.run(purge_expired_cases, 90, now=NOW, dry_run=True) == 4
    assert len(await database.run(cases.recent_cases, USER, limit=50)) == 6

    assert await database.run(purge_expired_cases, 90, now=NOW) == 4
    left = await database.run(cases.recent_cases, USER, limit=50)
    assert sorted(str(c.public_id) for c in left) == sorted(kept)
    assert all(len(c.photos) == 1 for c in left)

    assert await database.run(purge_expired_cases, 90, now=NOW) == 0
    with pytest.raises(ValueError):
        await database.run(purge_expired_cases, 0, now=NOW)
