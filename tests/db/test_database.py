"""Units of work: one function, one transaction; locks waited out while the loop goes on."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from bot.config import load_settings
from bot.db.database import Checkpointer, Database, NestedUnitOfWork
from tests.postgres import fresh_postgres_database


def _create_notes(connection: Connection) -> None:
    connection.execute(text("CREATE TABLE note (body TEXT)"))


def _add(session: Session, body: str) -> int:
    session.execute(text("INSERT INTO note VALUES (:body)"), {"body": body})
    return int(session.scalar(text("SELECT count(*) FROM note")) or 0)


def _add_then_fail(session: Session, body: str) -> None:
    _add(session, body)
    raise LookupError("the unit of work changed its mind")


def _bodies(session: Session) -> list[str]:
    return [str(body) for body in session.scalars(text("SELECT body FROM note ORDER BY body"))]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with Database.open(database_url) as database:
        await database.run_on_connection(_create_notes)
        yield database


async def test_a_unit_of_work_commits_what_it_did(database: Database) -> None:
    assert await database.run(_add, "first") == 1
    assert await database.run(_add, "second") == 2
    assert await database.run(_bodies) == ["first", "second"]


async def test_a_unit_of_work_that_raises_leaves_nothing(database: Database) -> None:
    await database.run(_add, "kept")
    with pytest.raises(LookupError):
        await database.run(_add_then_fail, "dropped")
    assert await database.run(_bodies) == ["kept"]


async def test_units_of_work_of_concurrent_tasks_are_not_nested(database: Database) -> None:
    await asyncio.gather(*(database.run(_add, f"note {n:02d}") for n in range(20)))
    assert len(await database.run(_bodies)) == 20


async def test_a_unit_of_work_started_inside_another_fails_at_once(database: Database) -> None:
    def nested(session: Session) -> None:
        inner = database.run(_add, "inner")
        try:
            # Drive the inner call as far as it goes without a loop: it must refuse at once
            # instead of waiting for the connection this unit holds.
            inner.send(None)
        finally:
            inner.close()

    started = time.monotonic()
    with pytest.raises(NestedUnitOfWork):
        await database.run(nested)
    assert time.monotonic() - started < 5
    assert await database.run(_bodies) == []


# ------------------------------------------------------------------------------ SQLite only


def _hold_write_lock(path: Path, seconds: float, taken: threading.Event) -> None:
    """Another program (a backup, the command line) holding the database's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO note VALUES ('from elsewhere')")
        taken.set()
        time.sleep(seconds)
        other.execute("COMMIT")
    finally:
        other.close()


async def _count_turns(turns: list[int]) -> None:
    while True:
        await asyncio.sleep(0.01)
        turns[0] += 1


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    path = tmp_path / "bot.sqlite3"
    async with Database.open(f"sqlite:///{path}", lock_wait_s=5) as database:
        await database.run_on_connection(_create_notes)
        yield database, path


async def test_a_lock_held_elsewhere_is_waited_for_while_the_loop_goes_on(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, path = sqlite_database
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.5, taken))
    holder.start()
    turns = [0]
    ticker = asyncio.create_task(_count_turns(turns))
    try:
        await asyncio.to_thread(taken.wait, 5)
        assert await database.run(_add, "from the bot") == 2
    finally:
        ticker.cancel()
        await asyncio.to_thread(holder.join)
    # The loop went on while the unit of work waited half a second for the lock.
    assert turns[0] >= 10
    assert await database.run(_bodies) == ["from elsewhere", "from the bot"]


def _create_more_notes(connection: Connection) -> None:
    connection.execute(text("CREATE TABLE more_notes (body TEXT)"))


async def test_schema_work_waits_for_a_lock_held_elsewhere_too(
    sqlite_database: tuple[Database, Path],
) -> None:
    # Schema work (create_all at a first start, the tests' fixtures) meets the same locks as a
    # unit of work: the checkpointer's, or another program's.
    database, path = sqlite_database
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.3, taken))
    holder.start()
    try:
        await asyncio.to_thread(taken.wait, 5)
        await database.run_on_connection(_create_more_notes)
    finally:
        await asyncio.to_thread(holder.join)
    tables = await database.run_on_connection(
        lambda connection: set(inspect(connection).get_table_names())
    )
    assert "more_notes" in tables


async def test_a_lock_held_too_long_fails_the_unit_of_work(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database.open(f"sqlite:///{path}", lock_wait_s=0.3) as database:
        await database.run_on_connection(_create_notes)
        taken = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 2.0, taken))
        holder.start()
        try:
            await asyncio.to_thread(taken.wait, 5)
            with pytest.raises(OperationalError, match="locked"):
                await database.run(_add, "too late")
        finally:
            await asyncio.to_thread(holder.join)
        assert await database.run(_bodies) == ["from elsewhere"]


async def test_commits_reach_the_database_file_without_the_loop_syncing(
    sqlite_database: tuple[Database, Path], tmp_path: Path
) -> None:
    database, path = sqlite_database
    await database.run(_add, "durable")
    # The main file alone (without its write-ahead log) shows the row once the checkpointer ran.
    copy = tmp_path / "copy.sqlite3"
    rows: list[tuple[str]] = []
    for _ in range(100):
        shutil.copyfile(path, copy)
        with contextlib.closing(sqlite3.connect(copy)) as alone:
            try:
                rows = alone.execute("SELECT body FROM note").fetchall()
            except sqlite3.OperationalError:  # not even the table is in the main file yet
                rows = []
        if rows:
            break
        await asyncio.sleep(0.1)
    assert rows == [("durable",)]


async def test_units_of_work_started_together_do_not_queue_one_loop_turn_each(
    sqlite_database: tuple[Database, Path],
) -> None:
    # A unit of work that kept the one connection while waiting for the loop's next turn made
    # every other one queue behind it: under a burst, a turn takes tens of milliseconds.
    database, _ = sqlite_database
    turns = [0]

    async def count_every_turn() -> None:
        while True:
            await asyncio.sleep(0)
            turns[0] += 1

    counter = asyncio.create_task(count_every_turn())
    await asyncio.sleep(0)
    try:
        counts = await asyncio.gather(
            *(database.run(_add, f"note {n:02d}") for n in range(20)), database.run(_bodies)
        )
        taken = turns[0]
    finally:
        counter.cancel()
    assert len(counts[-1]) == 20  # every write landed (the read came after them) ...
    assert taken <= 3  # ... within a few turns of the loop, not one or two turns each


async def test_a_unit_of_work_cancelled_while_waiting_for_a_lock_leaves_nothing_behind(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, path = sqlite_database
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.6, taken))
    holder.start()
    try:
        await asyncio.to_thread(taken.wait, 5)
        waiting = asyncio.create_task(database.run(_add, "cancelled"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # The one connection is free and usable again (it waits for the lock, then writes).
        await database.run(_add, "after the lock")
    finally:
        await asyncio.to_thread(holder.join)
    assert await database.run(_bodies) == ["after the lock", "from elsewhere"]


def _pragmas(connection: Connection) -> tuple[object, ...]:
    return tuple(
        connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
    )


async def test_sqlite_file_and_folder_are_created_with_safe_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "bot.sqlite3"
    # The URL of .env files written before the bot dropped aiosqlite still works.
    settings = load_settings(env_file=None, database_url=f"sqlite+aiosqlite:///{path}")
    async with Database.from_settings(settings) as database:
        assert path.parent.is_dir()
        pragmas = await database.run_on_connection(_pragmas)
    assert path.is_file()
    # WAL; foreign keys on; busy timeout 0: SQLite must never sleep on a lock inside a call
    # made on the loop's thread; synchronous NORMAL (1): commits do not fsync on the loop.
    assert pragmas == ("wal", 1, 0, 1)


async def test_default_database_is_a_file_under_data() -> None:
    # conftest runs every test in an empty working directory.
    default = Path("data") / "modelderm-bot.sqlite3"
    async with Database.from_settings(load_settings(env_file=None)) as database:
        assert await database.run(lambda session: session.scalar(text("SELECT 1"))) == 1
    assert default.is_file()


async def test_database_errors_never_quote_the_values_of_a_statement(database_url: str) -> None:
    # An error's text reaches the log with its traceback; the values are people's answers.
    def insert(session: Session) -> None:
        session.execute(text("INSERT INTO no_such_table VALUES (:body)"), {"body": "my left knee"})

    async with Database.open(database_url) as database:
        with pytest.raises(DBAPIError) as caught:
            await database.run(insert)
    assert "no_such_table" in str(caught.value)
    assert "my left knee" not in str(caught.value)


def test_the_checkpointer_copies_the_log_even_if_it_opened_the_file_first(tmp_path: Path) -> None:
    # The checkpointer's thread may open the file, and try a round, before the bot's connection
    # makes it WAL.
    path = tmp_path / "bot.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as checkpointer:
        checkpointer.execute("PRAGMA synchronous=NORMAL")
        Checkpointer.checkpoint(checkpointer)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as bot:
            bot.execute("PRAGMA journal_mode=WAL")
            bot.execute("PRAGMA wal_autocheckpoint=0")
            bot.execute("CREATE TABLE note (body TEXT)")
            bot.execute("INSERT INTO note VALUES ('durable')")
            Checkpointer.checkpoint(checkpointer)
            copy = tmp_path / "copy.sqlite3"
            shutil.copyfile(path, copy)
    with contextlib.closing(sqlite3.connect(copy)) as alone:
        assert alone.execute("SELECT body FROM note").fetchall() == [("durable",)]


async def test_a_unit_of_work_whose_reading_went_stale_runs_again(
    sqlite_database: tuple[Database, Path],
) -> None:
    # What a unit of work read must still be true when it writes: its reads and writes are one
    # transaction, and a write made meanwhile by another program sends it round again.
    database, path = sqlite_database
    runs = 0

    def number_the_next(session: Session) -> None:
        nonlocal runs
        runs += 1
        seen = int(session.scalar(text("SELECT count(*) FROM note")) or 0)
        if runs == 1:  # another program writes between this unit's read and its write
            with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
                other.execute("INSERT INTO note VALUES ('from elsewhere')")
        session.execute(text("INSERT INTO note VALUES (:body)"), {"body": f"note {seen + 1}"})

    await database.run(number_the_next)
    assert runs == 2
    assert await database.run(_bodies) == ["from elsewhere", "note 2"]


# -------------------------------------------------------------------------- PostgreSQL only


async def _terminate_other_backends(url: str) -> int:
    """What a restart of PostgreSQL (or a proxy dropping idle connections) does to the pool:
    every connection but the one asking is closed by the server."""
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    return int(killed or 0)


def _backend(session: Session) -> int:
    return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


@pytest.fixture
async def postgres_database() -> AsyncIterator[tuple[Database, str]]:
    """PostgreSQL only: what a server does to its connections (SQLite has none)."""
    async with fresh_postgres_database() as url, Database.open(url) as database:
        await database.run_on_connection(_create_notes)
        yield database, url


async def test_a_connection_closed_by_the_server_between_units_of_work_is_replaced(
    postgres_database: tuple[Database, str],
) -> None:
    database, url = postgres_database
    before = await database.run(_backend)
    assert await _terminate_other_backends(url) >= 1
    # The pooled connection is dead; the next unit of work still runs, on a fresh one.
    assert await database.run(_add, "after the restart") == 1
    assert await database.run(_backend) != before
    assert await database.run(_bodies) == ["after the restart"]


async def test_a_unit_of_work_whose_connection_dies_midway_runs_again_once(
    postgres_database: tuple[Database, str],
) -> None:
    database, _ = postgres_database
    runs = 0

    def add_once_the_server_dropped_the_first_try(session: Session) -> int:
        nonlocal runs
        runs += 1
        counted = _add(session, f"try {runs}")
        if runs == 1:  # the server goes away after this unit's write, before its commit
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return counted

    assert await database.run(add_once_the_server_dropped_the_first_try) == 1
    assert runs == 2
    # The first try's write went with its connection; the second try's is the only one.
    assert await database.run(_bodies) == ["try 2"]


async def test_a_unit_of_work_cancelled_while_the_server_works_leaves_nothing_behind(
    postgres_database: tuple[Database, str],
) -> None:
    # The unit runs on the database's own thread; cancelling the task that awaits it cancels it
    # there, rolled back, and its connection does not stay busy.
    database, _ = postgres_database
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def add_slowly(session: Session) -> None:
        _add(session, "cancelled")
        loop.call_soon_threadsafe(started.set)
        session.execute(text("SELECT pg_sleep(30)"))

    waiting = asyncio.create_task(database.run(add_slowly))
    await started.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await database.run(_add, "after") == 1
    assert await database.run(_bodies) == ["after"]
