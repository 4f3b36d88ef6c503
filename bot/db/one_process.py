"""One bot process per SQLite database: a second one refuses to start.

SQLite serves one process here: the bot's units of work never wait for the file's lock, and a
second process would also poll the same bot's updates. The running process holds an exclusive
lock on a file beside the database for as long as it lives; the system drops it when the
process ends in any way (a crash or SIGKILL included), so a stale lock never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.db.database import sqlite_file


class AnotherProcessRuns(RuntimeError):
    """Another bot process is running on this SQLite database."""


def hold_sqlite_database(database_url: str) -> int | None:
    """Lock the SQLite database of `database_url` for this process until it ends; the lock's
    file descriptor (None for other databases). Raises AnotherProcessRuns, in one sentence."""
    path = sqlite_file(make_url(database_url))
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = Path(f"{path}.lock")
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        # A database in a place the bot cannot write: opening it explains that, in a sentence
        # of its own (bot/cli/db.py), and no second process could write there either.
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise AnotherProcessRuns(
            f"Another bot process is already running on the SQLite database {path}; SQLite "
            "serves one process (for a second one standing by, use PostgreSQL: "
            "docs/deployment.md)."
        ) from None
    return descriptor
