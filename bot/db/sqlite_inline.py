"""SQLite run on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

Why not aiosqlite's thread: it runs every call on a helper thread and hands the answer back
through the event loop, and SQLAlchemy makes four such calls per statement (open a cursor,
execute, fetch, close), some twenty per unit of work. Each hand-back waits for the loop's next
turn, which under load takes milliseconds, and all that time the bot's one connection is held.
Measured at 200 people at once: units of work held the connection 8 ms (median) for well under
1 ms of SQLite's own work, and photo updates queued 1.5 s (median) for it. The statements here
are small (one case, its photos and answers), so SQLite's own work is tens of microseconds: less
than one hand-over to a thread costs. It is done in place.

The one thing that must not happen on the loop is waiting for a lock held by another process (a
backup, the `python -m bot` tools, a second bot on the same file): SQLite's busy timeout sleeps
inside the call and would freeze every chat. So SQLite's own busy timeout is 0, and a statement
that finds the database locked is tried again after an `asyncio.sleep`, until the same deadline
the busy timeout had. Two connections of one process (tests, the CLI) then wait for each other
without deadlocking the loop they share.

This is a DBAPI shim with the shape SQLAlchemy's aiosqlite adapter uses (awaitable cursor and
connection methods); `create_engine` plugs it in with `async_creator`. aiosqlite stays installed:
the dialect takes its exception classes (sqlite3's own) from it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

T = TypeVar("T")

_SQLITE_BUSY = 5
# Another connection wrote since this transaction's snapshot: waiting cannot help, and SQLite's
# own busy handler gives up at once too.
_SQLITE_BUSY_SNAPSHOT = 517
_FIRST_PAUSE_S = 0.001
_LONGEST_PAUSE_S = 0.05


def _locked(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int):  # not from SQLite itself
        return False
    return code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT


class InlineCursor:
    """An aiosqlite-shaped cursor whose calls finish before they return."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.raw.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return await self._connection.when_unlocked(self._cursor.execute, sql, parameters)

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Any:
        # Materialised once: a retry after "locked" must see the same parameters again.
        rows = list(seq_of_parameters)
        return await self._connection.when_unlocked(self._cursor.executemany, sql, rows)

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        """Nothing to do (DBAPI requires the method)."""

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's work queue, which SQLAlchemy's isolation-level setter uses."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    """An aiosqlite-shaped connection over a `sqlite3.Connection`, used on the loop's thread."""

    def __init__(self, raw: sqlite3.Connection, *, lock_wait_s: float) -> None:
        self.raw = raw
        self.lock_wait_s = lock_wait_s
        # The names SQLAlchemy's aiosqlite adapter reaches for: `_connection` is None once
        # closed, `_conn` is the sqlite3 connection, `_tx` the work queue.
        self._connection: sqlite3.Connection | None = raw
        self._conn = raw
        self._tx = _RunNow()

    async def when_unlocked(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)`, again after a pause while another connection holds the lock."""
        deadline = time.monotonic() + self.lock_wait_s
        pause = _FIRST_PAUSE_S
        while True:
            try:
                return call(*args)
            except sqlite3.OperationalError as error:
                if not _locked(error) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        await self.when_unlocked(self.raw.commit)

    async def rollback(self) -> None:
        self.raw.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate); closing twice is harmless."""
        if self._connection is not None:
            self._connection = None
            self.raw.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self.raw.isolation_level = value  # type: ignore[assignment]  # "" is valid too


def inline_connector(url: URL, lock_wait_s: float) -> Callable[[], Awaitable[InlineConnection]]:
    """An `async_creator` for `create_async_engine`, connecting as the aiosqlite dialect would."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(url)
    (database,) = args
    kwargs: dict[str, Any] = dict(options)
    # The pool may close a connection from the garbage collector's thread.
    kwargs["check_same_thread"] = False
    kwargs["timeout"] = 0  # never sleep inside SQLite: see the module's docstring

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(database, **kwargs), lock_wait_s=lock_wait_s)

    return connect
