"""Databases for the storage tests: a fresh SQLite file always, and PostgreSQL when available.

PostgreSQL comes from TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:55432/
postgres); each test gets a database of its own, dropped afterwards. Without a reachable server
the PostgreSQL half skips with the reason, unless REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.consent import publish_terms
from bot.db.database import Database
from bot.db.models import Base
from tests.db.helpers import DEFAULT_TERMS
from tests.postgres import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each kind of server, as a URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'bot.sqlite3'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A database with the schema of the models (migrations are tested apart) and the default
    terms in force, as after the bot's first start."""
    async with Database.open(database_url) as database:
        await database.run_on_connection(Base.metadata.create_all)
        await database.run(publish_terms, DEFAULT_TERMS)
        yield database
