"""The database as the bot uses it: `await database.run(work, *args)` runs one unit of work.

A unit of work is a plain, synchronous function `work(session, *args)`. It reads and writes through
the ORM session it is given; the transaction commits when it returns and rolls back when it raises.
It touches nothing but its session, because it may run more than once (see below). No caller holds
a session or a connection across an `await`.

How it runs:
1. SQLite: on the event loop's own thread, through SQLAlchemy's synchronous engine and one
   connection. The statements are small (one case, its photos): SQLite's work takes microseconds,
   less than handing it to another thread, and a thread would fight the loop for the GIL.
2. The connection never waits inside SQLite (busy_timeout 0): a unit of work that finds the file
   locked by another program (a backup, the command line) is rolled back and run again after an
   `asyncio.sleep`, until `lock_wait_s`; the loop goes on answering everyone meanwhile.
3. Commits do not fsync (WAL with synchronous=NORMAL, which a crash of the bot cannot corrupt or
   lose); a checkpointer thread syncs the WAL every CHECKPOINT_EVERY_S, so fsyncs happen off the
   loop and a power cut can only take back the last moments.
4. PostgreSQL: asyncpg with a connection pool; the same function runs through SQLAlchemy's public
   `AsyncSession.run_sync`, so one set of repository functions serves both databases. Units run
   on an event loop of their own, on a thread of its own (`_LoopThread`), so that their round
   trips do not each wait for a turn of the bot's busy loop; the bot's loop waits for a unit up
   to HOLD_LOOP_S without turning, then awaits it. No ping before a unit: a unit whose
   connection turns out closed before its COMMIT runs again, once, on a fresh connection.
5. A unit of work started from inside another fails at once with `NestedUnitOfWork`.

Each unit of work is one real SQLite transaction (BEGIN at its first statement), not pysqlite's
default of reading outside any transaction: what a unit read is still true when it writes, or
SQLite says it is not (BUSY_SNAPSHOT) and the unit runs again, from a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.config import DEFAULT_DATABASE_LOCK_WAIT_S, Settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# PostgreSQL connections a process keeps open, and how many more it may open in a burst
# (PostgreSQL's default max_connections of 100 leaves room for two processes and the tools).
POOL_SIZE = 20
POOL_OVERFLOW = 10
# PostgreSQL: how long the bot's loop waits, without turning, for a unit of work (on a server
# nearby most take a few milliseconds) before it goes on and awaits the unit instead. Long
# enough for the longest units of a burst (a consent: about 15 statements); a unit that outlasts
# it waits for a turn of the busy loop, which took longer than the unit (docs/benchmarks.md).
HOLD_LOOP_S = 0.03
# ... unless this many units outlasted it and still run: a slow server (a row locked elsewhere,
# a slow network) holds the loop at most this many times HOLD_LOOP_S before every unit is
# awaited.
SLOW_UNITS_TO_STOP_HOLDING = POOL_SIZE
# How often the checkpointer makes the committed transactions durable on disk.
CHECKPOINT_EVERY_S = 1.0
_FIRST_PAUSE_S = 0.001
_LONGEST_PAUSE_S = 0.05
# SQLITE_BUSY and SQLITE_LOCKED, whatever their extended code (BUSY_SNAPSHOT included: the unit
# of work starts again from a fresh snapshot, which is what that error asks for).
_BUSY_CODES = frozenset({5, 6})


# Set while a unit of work runs, in that task's context only: other tasks' units are not nested.
_in_unit: contextvars.ContextVar[bool] = contextvars.ContextVar("in_unit_of_work", default=False)


class NestedUnitOfWork(RuntimeError):
    """`Database.run` was called while a unit of work was running."""


class _BeforeCommit(Exception):
    """A database error raised before the unit of work's COMMIT was sent."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database)


def _locked(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _BUSY_CODES


def _pragmas(lock_wait_s: float | None, *, foreign_keys: bool) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # No implicit transactions: the "begin" listener below opens one per unit of work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Foreign keys are off by default in SQLite; the erase and purge cascades depend on them.
        # Migrations turn them off: batch mode rebuilds a table by dropping it, and with them on
        # the drop would cascade to every row pointing at it (foreign_key_check runs after).
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if lock_wait_s is None:
            # Never wait inside SQLite: on the loop's thread that would freeze every chat.
            cursor.execute("PRAGMA busy_timeout=0")
            # Checkpoints (and their fsyncs) are the checkpointer thread's job.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        else:
            cursor.execute(f"PRAGMA busy_timeout={round(lock_wait_s * 1000)}")
        cursor.close()

    return on_connect


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def sqlite_engine(
    url: URL | str, *, lock_wait_s: float | None = None, foreign_keys: bool = True
) -> Engine:
    """The synchronous engine of a SQLite URL (whatever its driver name says: pysqlite is used),
    creating the file's directory on first use so the default needs no set-up.

    `lock_wait_s` None: for `Database` on the event loop (SQLite never waits for a lock, and a
    checkpointer thread does the checkpoints). A number: for code off the loop (migrations),
    where SQLite itself may wait that long for a lock held by another program.
    """
    url = make_url(url).set(drivername="sqlite")
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # One connection, kept open: units of work run one at a time on one thread anyway, and an
    # in-memory database (tests) lives exactly as long as its connection. An error's text names
    # its statement's values unless hidden, and errors are logged with their traceback: the
    # values are people's answers, references and Telegram ids.
    engine = create_sync_engine(url, poolclass=StaticPool, hide_parameters=True)
    event.listen(engine, "connect", _pragmas(lock_wait_s, foreign_keys=foreign_keys))
    event.listen(engine, "begin", _begin)
    return engine


def with_connection(
    url: URL | str,
    work: Callable[[Connection], T],
    *,
    lock_wait_s: float = DEFAULT_DATABASE_LOCK_WAIT_S,
    foreign_keys: bool = True,
) -> T:
    """`work(connection)` on a connection of its own, for synchronous code off the event loop
    (migrations, schema checks); the caller manages transactions. Call it from async code
    through `asyncio.to_thread`. `foreign_keys` False: SQLite does not enforce them (for
    migrations; PostgreSQL always does)."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        engine = sqlite_engine(url, lock_wait_s=lock_wait_s, foreign_keys=foreign_keys)
        try:
            with engine.connect() as connection:
                return work(connection)
        finally:
            engine.dispose()

    async def run() -> T:
        engine = create_async_engine(url, hide_parameters=True)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


class Checkpointer:
    """Copies the WAL into the database file every `every_s`, on a thread of its own, so that
    the fsyncs of durable storage never run on the event loop."""

    def __init__(self, path: Path, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path, self.every_s = path, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=self.every_s)
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
            while not self._stop.wait(self.every_s):
                self.checkpoint(connection)
            self.checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def checkpoint(connection: sqlite3.Connection) -> None:
        try:
            # A connection learns that the file is in WAL mode only when it reads it; this one
            # may have opened it before the bot switched it to WAL, and would not checkpoint.
            connection.execute("PRAGMA schema_version").fetchall()
            # PASSIVE never waits for the bot's writers or readers: it copies what it can.
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # e.g. locked by a backup: the next round catches up
            log.debug("checkpoint postponed: %s", error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


class _LoopThread:
    """An event loop on a thread of its own, where PostgreSQL's units of work run.

    On the bot's loop each round trip of a unit (BEGIN, every statement, COMMIT) waited for a
    turn of a loop busy with everyone's updates, tens of milliseconds each under a burst. Here
    round trips are answered as soon as the server replies. The bot's loop waits for a unit as
    it waits for SQLite's, without turning, up to HOLD_LOOP_S: a turn would cost the update more
    than the unit itself, and the waiting thread leaves the GIL to this one. A unit that takes
    longer (a row locked elsewhere, a slow network) is awaited while the loop goes on, and so is
    every unit started while SLOW_UNITS_TO_STOP_HOLDING such units still run.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="postgresql", daemon=True
        )
        self._thread.start()
        # Units that outlasted HOLD_LOOP_S, until they finish on this thread's loop.
        self._slow: set[concurrent.futures.Future[Any]] = set()

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """The result of `coroutine`, run on this thread's loop; cancelling the caller while it
        is awaited cancels it there too."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        self._slow = {unit for unit in self._slow if not unit.done()}
        if len(self._slow) < SLOW_UNITS_TO_STOP_HOLDING:
            concurrent.futures.wait([future], timeout=HOLD_LOOP_S)
            if future.done():
                return future.result()
            self._slow.add(future)
        return await asyncio.wrap_future(future)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()


class Database:
    """Runs units of work; made at start-up (`Database.open`), closed with `dispose()`."""

    def __init__(self, url: URL, *, lock_wait_s: float = DEFAULT_DATABASE_LOCK_WAIT_S) -> None:
        self.url = url
        self.dialect = url.get_backend_name()
        self.lock_wait_s = lock_wait_s
        self._checkpointer: Checkpointer | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._async_engine: AsyncEngine | None = None
        self._async_sessions: async_sessionmaker[AsyncSession] | None = None
        self._session_info: dict[str, Any] = {}
        self._loop_thread: _LoopThread | None = None
        if self.dialect == "sqlite":
            self._engine: Engine | None = sqlite_engine(url)
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
            path = sqlite_file(url)
            if path is not None:
                self._checkpointer = Checkpointer(path)
                self._checkpointer.start()
        else:
            self._engine = None
            self._async_engine = create_async_engine(
                url,
                # No ping before each unit of work (three round trips: BEGIN, ";", ROLLBACK):
                # a unit that finds its connection closed runs again on a fresh one instead.
                hide_parameters=True,
                # Units awaited on a slow server hold their connections meanwhile: SQLAlchemy's
                # default of 5 (+10) connections queued a burst behind the pool until its 30 s
                # timeout (bench_load with 200 people, before units ran on their own loop).
                # A unit that still finds none free waits as long as SQLite waits for its lock.
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                # The connection used last first: its prepared statements are the warmest, and
                # a burst served mostly one unit at a time opens few connections.
                pool_use_lifo=True,
                pool_timeout=lock_wait_s,
            )
            self._async_sessions = async_sessionmaker(self._async_engine, expire_on_commit=False)
            self._loop_thread = _LoopThread()

    @classmethod
    def open(cls, url: URL | str, *, lock_wait_s: float = DEFAULT_DATABASE_LOCK_WAIT_S) -> Database:
        return cls(make_url(url), lock_wait_s=lock_wait_s)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database of DATABASE_URL, waiting DATABASE_LOCK_WAIT_S for another program's lock."""
        return cls.open(settings.database_url, lock_wait_s=settings.database_lock_wait_s)

    def configure_sessions(self, **options: Any) -> None:
        """Options for every session made from now on (e.g. `info`, read by session events;
        the keys of `info` given here are added to those given before)."""
        if "info" in options:
            self._session_info.update(options["info"])
            options["info"] = dict(self._session_info)
        if self._sessions is not None:
            self._sessions.configure(**options)
        if self._async_sessions is not None:
            self._async_sessions.configure(**options)

    async def run(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(session, *args, **kwargs)` in one transaction, committed; its return value."""
        if _in_unit.get():
            raise NestedUnitOfWork(
                "a unit of work cannot start another: use the session it was given"
            )
        if self._loop_thread is not None:
            return await self._loop_thread.call(
                self._reconnecting(self._unit_of_work, work, *args, **kwargs)
            )
        sessions = self._sessions
        assert sessions is not None

        def unit() -> T:
            token = _in_unit.set(True)
            try:
                with sessions.begin() as session:
                    return work(session, *args, **kwargs)
            finally:
                _in_unit.reset(token)

        return await self._while_locked(unit)

    async def run_on_connection(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in a transaction: schema work and other Core-level statements."""
        if self._loop_thread is not None:
            return await self._loop_thread.call(self._reconnecting(self._on_connection, work))
        engine = self._engine
        assert engine is not None

        def unit() -> T:
            with engine.begin() as connection:
                return work(connection)

        return await self._while_locked(unit)

    async def _unit_of_work(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """PostgreSQL: one try of a unit of work. Its changes are flushed inside the try, so
        that everything but the COMMIT itself happens before `_reconnecting` may retry."""
        assert self._async_sessions is not None

        def flushed(session: Session) -> T:
            result = work(session, *args, **kwargs)
            session.flush()
            return result

        token = _in_unit.set(True)
        try:
            async with self._async_sessions() as session:
                try:
                    result = await session.run_sync(flushed)
                except DBAPIError as error:
                    raise _BeforeCommit(error) from error
                await session.commit()
                return result
        finally:
            _in_unit.reset(token)

    async def _on_connection(self, work: Callable[[Connection], T]) -> T:
        assert self._async_engine is not None
        async with self._async_engine.connect() as connection:
            try:
                result = await connection.run_sync(work)
            except DBAPIError as error:
                raise _BeforeCommit(error) from error
            await connection.commit()
            return result

    @staticmethod
    async def _reconnecting(
        attempt: Callable[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """PostgreSQL: `attempt` once more on a fresh connection if its connection turned out
        closed (a restarted server, a proxy's idle timeout) before the COMMIT was sent. SQLAlchemy
        then discards that connection and every other one opened before it. A COMMIT cut off
        is not retried: whether it took effect is unknown, so the error goes to the caller."""
        try:
            return await attempt(*args, **kwargs)
        except _BeforeCommit as failed:
            if not failed.error.connection_invalidated:
                raise failed.error from None
            log.warning("the database connection was closed; running the unit of work again")
        try:
            return await attempt(*args, **kwargs)
        except _BeforeCommit as failed:
            raise failed.error from None

    async def _while_locked(self, unit: Callable[[], T]) -> T:
        """SQLite: `unit()` again while the database is locked (the checkpointer, another
        program), up to DATABASE_LOCK_WAIT_S; SQLite itself never waits on the loop's thread."""
        deadline = time.monotonic() + self.lock_wait_s
        pause = _FIRST_PAUSE_S
        while True:
            try:
                return unit()
            except OperationalError as error:
                if not _locked(error) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            checkpointer, self._checkpointer = self._checkpointer, None
            await asyncio.to_thread(checkpointer.stop)
        if self._engine is not None:
            self._engine.dispose()
        if self._loop_thread is not None:
            loop_thread, self._loop_thread = self._loop_thread, None
            assert self._async_engine is not None
            try:
                await loop_thread.call(self._async_engine.dispose())
            finally:
                await asyncio.to_thread(loop_thread.stop)

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.dispose()
