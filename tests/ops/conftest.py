"""The real application against the fakes, with the operation settings under test."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bot.db.migrate import upgrade_to_head
from tests.conversation.conftest import World, settings_for
from tests.conversation.flows import WAIT, agree, answer_everything, send_photos
from tests.fakes.modelderm_server import FakeModelDerm
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import ChatMessage, FakeUser


@pytest.fixture
async def world(
    tmp_path: Path, fake_telegram: FakeTelegram, modelderm_server: FakeModelDerm
) -> World:
    settings = settings_for(fake_telegram, [modelderm_server.url], tmp_path / "bot.sqlite3")
    await asyncio.to_thread(upgrade_to_head, settings.database_url)
    return World(fake_telegram, modelderm_server, settings)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def reach_summary(user: FakeUser, *, first: bool = True) -> ChatMessage:
    """From nothing (or from "New check") to the summary of a case with two photos."""
    if first:
        await agree(user)
    else:
        await user.wait_for("Whose skin", timeout=WAIT)
    await user.press("My own skin")
    await send_photos(user, 2)
    await user.press("✅ Done")
    return await answer_everything(user)


async def complete_case(user: FakeUser, *, first: bool = True) -> ChatMessage:
    """A whole case: consent (the first time), 2 photos, every answer, send, the result."""
    await reach_summary(user, first=first)
    await user.press("📤 Send for analysis")
    return await user.wait_for("AI estimate", timeout=WAIT)
