"""Pytest fixtures for the fake Model Dermatology server (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fakes.modelderm_server import FakeModelDerm


@pytest.fixture
async def modelderm_server() -> AsyncIterator[FakeModelDerm]:
    """A fake server in the test's own event loop (for async tests)."""
    async with FakeModelDerm() as server:
        yield server


@pytest.fixture
async def modelderm_backup_server() -> AsyncIterator[FakeModelDerm]:
    """A second fake server, for failover."""
    async with FakeModelDerm() as server:
        yield server


@pytest.fixture
def threaded_modelderm_server() -> Iterator[FakeModelDerm]:
    """A fake server in a background thread (for tests that run the CLI in a subprocess)."""
    with FakeModelDerm().in_thread() as server:
        yield server


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client
