"""Databases for the storage tests: a fresh SQLite file always, and PostgreSQL when available.

PostgreSQL comes from TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:55432/
postgres); each test gets a database of its own, dropped afterwards. Without a reachable server
the PostgreSQL half skips with the reason, unless REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.db.consent import publish_terms
from bot.db.database import Database
from bot.db.models import Base
from tests.db.helpers import DEFAULT_TERMS

_unreachable: dict[str, str | None] = {}


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


async def _admin_engine() -> tuple[AsyncEngine, str]:
    server = os.environ.get("TEST_POSTGRES_URL", "")
    if not server:
        _unavailable("TEST_POSTGRES_URL is not set")
    if server not in _unreachable:
        probe = create_async_engine(server)
        try:
            async with probe.connect() as connection:
                await connection.execute(text("SELECT 1"))
            _unreachable[server] = None
        except Exception as exc:
            _unreachable[server] = f"cannot connect to TEST_POSTGRES_URL ({type(exc).__name__})"
        finally:
            await probe.dispose()
    reason = _unreachable[server]
    if reason is not None:
        _unavailable(reason)
    return create_async_engine(server, isolation_level="AUTOCOMMIT"), server


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each kind of server, as a URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'bot.sqlite3'}"
        return
    admin, server = await _admin_engine()
    name = f"bot_test_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A database with the schema of the models (migrations are tested apart) and the default
    terms in force, as after the bot's first start."""
    async with Database.open(database_url) as database:
        await database.run_on_connection(Base.metadata.create_all)
        await database.run(publish_terms, DEFAULT_TERMS)
        yield database
