"""Engines and session factories. Nothing connects until a session is used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.ext.asyncio.session import _AsyncSessionContextManager
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.config import DEFAULT_DATABASE_LOCK_WAIT_S, Settings
from bot.db.sqlite_inline import InlineConnection, inline_connector

# A unit of work waits for the bot's one SQLite connection this many times the lock wait: longer
# than a lock wait, so a database locked from outside (a backup, the CLI) fails with SQLite's own
# error, not this one.
QUEUE_WAIT_LOCK_WAITS = 2


def database_url(settings_or_url: Settings | str | URL) -> URL:
    if isinstance(settings_or_url, Settings):
        return make_url(settings_or_url.database_url)
    return make_url(settings_or_url)


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database)


def _on_the_loop(url: URL) -> bool:
    """Whether `create_engine` runs this database on the event loop's thread: a SQLite file."""
    return sqlite_file(url) is not None


def _sqlite_pragmas(lock_wait_s: float) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers go on while one writer writes; foreign keys are off by default in
        # SQLite and cascades (erase, purge) depend on them.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not isinstance(dbapi_connection.driver_connection, InlineConnection):
            # (The in-loop connection waits for locks itself, without blocking the loop.)
            cursor.execute(f"PRAGMA busy_timeout={round(lock_wait_s * 1000)}")
        cursor.close()

    return set_pragmas


def create_engine(settings_or_url: Settings | str | URL, *, echo: bool = False) -> AsyncEngine:
    """An async engine for SQLite or PostgreSQL (asyncpg).

    A SQLite file is used on the event loop's own thread (bot/db/sqlite_inline.py: much faster
    than aiosqlite's thread under load); an in-memory one, for tests, through aiosqlite.

    A SQLite file's directory is created on first use, so the default needs no set-up.
    """
    url = database_url(settings_or_url)
    lock_wait_s = (
        settings_or_url.database_lock_wait_s
        if isinstance(settings_or_url, Settings)
        else DEFAULT_DATABASE_LOCK_WAIT_S
    )
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # An error's text names its statement's values unless hidden, and errors are logged with
    # their traceback: the values are people's answers, references and Telegram ids.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    if _on_the_loop(url):
        # SQLite lets one writer in at a time, and a writer that finds the file locked polls it,
        # sleeping up to 100 ms between tries: under a burst, dozens of connections sleeping on
        # each other's locks made single-millisecond writes take seconds. One connection that
        # units of work queue for (in order, woken the moment it is free) is much faster, and
        # never opens and closes connections as load varies.
        kwargs.update(
            async_creator=inline_connector(url, lock_wait_s=lock_wait_s),
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=QUEUE_WAIT_LOCK_WAITS * lock_wait_s,
        )
    engine = _create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(lock_wait_s))
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """One session per unit of work: `async with sessionmaker.begin() as session: ...`."""
    in_place = _on_the_loop(engine.url)
    return async_sessionmaker(
        engine, class_=InPlaceSession if in_place else AsyncSession, expire_on_commit=False
    )


class InPlaceSession(AsyncSession):
    """A session that commits and closes in the task that used it, for the in-loop SQLite.

    SQLAlchemy ends `async with sessionmaker.begin()` (and `async with session`) in a new task,
    so that a cancelled caller cannot abandon the commit halfway. That task runs a turn of the
    event loop later, and until then the transaction stays open and holds the bot's one SQLite
    connection. Under a burst a turn takes tens of milliseconds, so every other unit of work
    queued behind each one: at 200 people at once, photo updates waited up to 1.9 s (p95 0.6 s)
    for each of their two short transactions; done in place, p95 6-12 ms. With the in-loop
    connection nothing here waits, except for a lock held by another program; cancelled in that
    wait, the commit has not happened, and closing rolls back at once. So there is nothing to
    protect. (The two hooks are SQLAlchemy's private names, hence the `<2.2` pin;
    tests/db/test_session.py fails if they stop being used.)
    """

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()

    def _maker_context_manager(self) -> _AsyncSessionContextManager[InPlaceSession]:
        return _InPlaceUnitOfWork(self)


class _InPlaceUnitOfWork(_AsyncSessionContextManager[InPlaceSession]):
    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        try:
            await self.trans.__aexit__(type_, value, traceback)
        finally:
            await self.async_session.close()
