"""A fresh PostgreSQL database per test, on the server of TEST_POSTGRES_URL.

Without a reachable server a test that needs one skips with the reason, unless
REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """An empty database of its own (its URL), dropped afterwards."""
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
