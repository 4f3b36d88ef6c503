"""The engine: SQLite file created on first use with WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.config import load_settings
from bot.db.session import SQLITE_BUSY_TIMEOUT_S, create_engine


async def test_sqlite_file_and_folder_are_created_with_safe_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "bot.sqlite3"
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{path}")
    engine = create_engine(settings)
    assert path.parent.is_dir()  # created up front: aiosqlite cannot create folders
    try:
        async with engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
            busy = await connection.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert path.is_file()
    assert (journal, foreign_keys, busy) == ("wal", 1, SQLITE_BUSY_TIMEOUT_S * 1000)


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
