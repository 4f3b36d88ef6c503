"""The engine: SQLite file created on first use with WAL and foreign keys; locks waited out.

The bot runs SQLite on the event loop's thread (bot/db/sqlite_inline.py), so a database locked by
another process must be waited for without stopping the loop: other people keep being answered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_settings
from bot.db.session import create_engine, create_sessionmaker


def _hold_write_lock(path: Path, seconds: float, taken: threading.Event) -> None:
    """Another program (a backup, the CLI) holding the database's write lock for a while."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO note VALUES ('from elsewhere')")
        taken.set()
        time.sleep(seconds)
        other.execute("COMMIT")
    finally:
        other.close()


async def _count_turns(count: list[int], *, every_s: float) -> None:
    """Count the turns of the event loop this task gets, asking for one every `every_s`."""
    while True:
        await asyncio.sleep(every_s)
        count[0] += 1


async def _engine_with_table(path: Path, *, lock_wait_s: float | None = None) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{path}"
    waiting = {} if lock_wait_s is None else {"database_lock_wait_s": lock_wait_s}
    engine = create_engine(load_settings(env_file=None, database_url=url, **waiting))
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE note (body TEXT)"))
    return engine


async def test_a_locked_database_is_waited_for_while_the_loop_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _engine_with_table(path)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.5, taken))
    holder.start()
    ticks = [0]
    ticker = asyncio.create_task(_count_turns(ticks, every_s=0.01))
    try:
        await asyncio.to_thread(taken.wait, 5)
        started, ticks[0] = time.monotonic(), 0
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO note VALUES ('from the bot')"))
        waited = time.monotonic() - started
        async with engine.connect() as connection:
            notes = (await connection.scalars(text("SELECT body FROM note"))).all()
    finally:
        ticker.cancel()
        await asyncio.to_thread(holder.join)
        await engine.dispose()
    assert waited >= 0.3  # it did wait for the other program's commit ...
    assert notes == ["from elsewhere", "from the bot"]  # ... then wrote, after it
    assert ticks[0] >= 15  # ... and the loop kept running meanwhile (about 40 ticks of 10 ms)


async def test_a_database_locked_for_too_long_fails_with_sqlites_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _engine_with_table(path, lock_wait_s=0.2)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.0, taken))
    holder.start()
    try:
        await asyncio.to_thread(taken.wait, 5)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO note VALUES ('from the bot')"))
        gave_up_after = time.monotonic() - started
    finally:
        await asyncio.to_thread(holder.join)
        await engine.dispose()
    assert 0.1 <= gave_up_after < 0.9


async def test_units_of_work_started_together_do_not_queue_one_loop_turn_each(
    tmp_path: Path,
) -> None:
    # A unit of work that kept the one connection while waiting for the loop's next turn made
    # every other one queue behind it: under a burst, a turn takes tens of milliseconds.
    engine = await _engine_with_table(tmp_path / "bot.sqlite3")
    sessions = create_sessionmaker(engine)
    turns = [0]

    async def write(n: int) -> None:
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO note VALUES (:body)"), {"body": f"note {n}"})

    async def read() -> int:
        async with sessions() as session:
            return len((await session.scalars(text("SELECT body FROM note"))).all())

    counter = asyncio.create_task(_count_turns(turns, every_s=0))
    await asyncio.sleep(0)
    try:
        counts = await asyncio.gather(*(write(n) for n in range(20)), read())
        taken = turns[0]
    finally:
        counter.cancel()
        await engine.dispose()
    assert counts[-1] == 20  # every write landed (the read came after them) ...
    assert taken <= 3  # ... within a few turns of the loop, not one or two turns each


async def test_a_unit_of_work_cancelled_while_waiting_for_a_lock_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _engine_with_table(path)
    sessions = create_sessionmaker(engine)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.6, taken))
    holder.start()

    async def write(body: str) -> None:
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO note VALUES (:body)"), {"body": body})

    try:
        await asyncio.to_thread(taken.wait, 5)
        waiting = asyncio.create_task(write("cancelled"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        connections_in_use = engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
        await write("after the lock")  # the one connection is free and usable again
        async with sessions() as session:
            notes = (await session.scalars(text("SELECT body FROM note"))).all()
    finally:
        await asyncio.to_thread(holder.join)
        await engine.dispose()
    assert connections_in_use == 0
    assert notes == ["from elsewhere", "after the lock"]


async def test_sqlite_file_and_folder_are_created_with_safe_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "bot.sqlite3"
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{path}")
    engine = create_engine(settings)
    assert path.parent.is_dir()  # created up front: aiosqlite cannot create folders
    try:
        async with engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
            # 0: SQLite must never sleep on a lock inside a call made on the loop's thread.
            busy = await connection.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert path.is_file()
    assert (journal, foreign_keys, busy) == ("wal", 1, 0)


async def test_default_database_is_a_file_under_data(tmp_path: Path) -> None:
    # conftest runs every test in an empty working directory.
    default = Path("data") / "modelderm-bot.sqlite3"
    engine = create_engine(load_settings())
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert default.is_file()


async def test_database_errors_never_quote_the_values_of_a_statement(database_url: str) -> None:
    # An error's text reaches the log with its traceback; the values are people's answers.
    engine = create_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as caught:
            async with engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO no_such_table VALUES (:body)"), {"body": "my left knee"}
                )
    finally:
        await engine.dispose()
    assert "no_such_table" in str(caught.value)
    assert "my left knee" not in str(caught.value)
