"""Case counts of /metrics come from the units of work: counted once each is committed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.db import cases
from bot.db.database import Database
from bot.db.models import Base
from bot.runtime.metrics import PREFIX, Metrics, observe_cases
from tests.db.helpers import DIAGNOSIS, accept_terms, case_with_photos
from tests.db.test_database import _hold_write_lock

PERSON = 8_100_000_001


def _counted(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(f"{PREFIX}_cases_{name}_total")
    assert value is not None
    return value


async def test_status_changes_are_counted_when_committed(database: Database) -> None:
    metrics = Metrics()
    observe_cases(database, metrics)
    await accept_terms(database, PERSON)
    public_id = await case_with_photos(database, PERSON, 1)
    await database.run(cases.mark_submitted, public_id)
    await database.run(cases.mark_completed, public_id, DIAGNOSIS)

    def started_then_refused(session: Session) -> None:
        cases.create_case(session, PERSON + 1)
        session.flush()
        raise LookupError("rolled back")

    with pytest.raises(LookupError):
        await database.run(started_then_refused)
    counts = [_counted(metrics, name) for name in ("started", "submitted", "completed", "failed")]
    assert counts == [1, 1, 1, 0]


async def test_a_unit_of_work_run_again_after_a_lock_is_counted_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database.open(f"sqlite:///{path}", lock_wait_s=5) as database:
        await database.run_on_connection(Base.metadata.create_all)
        # The table the other program writes to while it holds the lock.
        await database.run_on_connection(
            lambda connection: connection.exec_driver_sql("CREATE TABLE note (body TEXT)")
        )
        metrics = Metrics()
        observe_cases(database, metrics)
        taken = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 0.3, taken))
        holder.start()
        tries = 0

        def start(session: Session) -> None:
            nonlocal tries
            tries += 1
            cases.create_case(session, PERSON)

        try:
            await asyncio.to_thread(taken.wait, 5)
            await database.run(start)
        finally:
            await asyncio.to_thread(holder.join)
    assert tries > 1  # it did meet the lock and ran again ...
    assert _counted(metrics, "started") == 1  # ... and the case was counted once
