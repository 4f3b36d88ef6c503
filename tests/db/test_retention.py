"""Purging finished cases after the retention period."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db import cases
from bot.db.retention import purge_expired_cases
from tests.db.helpers import DIAGNOSIS, Sessions, accept_terms, photo

USER = 4_400_000_001
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


async def _case(sessions: Sessions, end: str, at: dt.datetime, tag: str) -> str:
    async with sessions.begin() as session:
        case = await cases.create_case(session, USER, now=at)
        await cases.add_photo(session, case.public_id, photo(1, tag), now=at)
        if end == "completed":
            await cases.mark_submitted(session, case.public_id, now=at)
            await cases.mark_completed(session, case.public_id, DIAGNOSIS, now=at)
        elif end == "failed":
            await cases.mark_submitted(session, case.public_id, now=at)
            await cases.mark_failed(session, case.public_id, "refused", now=at)
        elif end == "cancelled":
            await cases.cancel_case(session, case.public_id, now=at)
        elif end == "pending_retry":
            await cases.mark_submitted(session, case.public_id, now=at)
            await cases.mark_pending_retry(session, case.public_id, "down", at, now=at)
        return str(case.public_id)


async def test_purge_removes_only_expired_finished_cases(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    old = [
        await _case(sessions, "completed", days_ago(91), "a"),
        await _case(sessions, "failed", days_ago(100), "b"),
        await _case(sessions, "cancelled", days_ago(365), "c"),
    ]
    kept = [
        await _case(sessions, "completed", days_ago(89), "d"),
        await _case(sessions, "pending_retry", days_ago(200), "e"),
    ]
    # Abandoned while being collected, long ago.
    old.append(await _case(sessions, "collecting", days_ago(120), "f"))

    async with sessions.begin() as session:
        assert await purge_expired_cases(session, 90, now=NOW, dry_run=True) == 4
    async with sessions() as session:
        assert len(await cases.recent_cases(session, USER, limit=50)) == 6

    async with sessions.begin() as session:
        assert await purge_expired_cases(session, 90, now=NOW) == 4
    async with sessions() as session:
        left = await cases.recent_cases(session, USER, limit=50)
    assert sorted(str(c.public_id) for c in left) == sorted(kept)
    assert all(len(c.photos) == 1 for c in left)

    async with sessions.begin() as session:
        assert await purge_expired_cases(session, 90, now=NOW) == 0
        with pytest.raises(ValueError):
            await purge_expired_cases(session, 0, now=NOW)
