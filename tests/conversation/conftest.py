"""The real bot (build_application) against the fake Telegram and fake ModelDerm servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.conversation.common import BotApplication
from bot.db.migrate import upgrade_to_head
from tests.fakes.modelderm_server import FakeModelDerm
from tests.fakes.telegram_fixtures import running_application
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser


@dataclass
class World:
    """Everything one end-to-end test needs: both fakes, the settings and the people."""

    telegram: FakeTelegram
    api: FakeModelDerm
    settings: Settings
    users: list[FakeUser] = field(default_factory=list)

    def person(self, name: str = "Alice", **kwargs: Any) -> FakeUser:
        user = FakeUser(self.telegram, name, **kwargs)
        self.users.append(user)
        return user

    @contextlib.asynccontextmanager
    async def bot(self, **overrides: Any) -> AsyncIterator[BotApplication]:
        """Run the real application; leaving the block stops it (as a restart would)."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        application = build_application(settings)
        async with running_application(application, poll_timeout=5):
            yield application


def settings_for(telegram: FakeTelegram, api_urls: list[str], database: Path) -> Settings:
    return load_settings(
        env_file=None,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        telegram_file_base_url=telegram.base_file_url,
        modelderm_api_urls=api_urls,
        database_url=f"sqlite+aiosqlite:///{database}",
        # Short waits so that a test takes seconds, not minutes; the logic is the same.
        album_quiet_s=0.3,
        retry_interval_s=0.3,
        retry_base_s=0.2,
        retry_max_s=1.0,
        modelderm_max_attempts=2,
        modelderm_backoff_base_s=0.01,
        modelderm_backoff_max_s=0.05,
        modelderm_deadline_s=5.0,
        modelderm_request_timeout_s=3.0,
    )


@pytest.fixture
async def world(
    tmp_path: Path, fake_telegram: FakeTelegram, modelderm_server: FakeModelDerm
) -> World:
    settings = settings_for(fake_telegram, [modelderm_server.url], tmp_path / "bot.sqlite3")
    await asyncio.to_thread(upgrade_to_head, settings.database_url)
    return World(fake_telegram, modelderm_server, settings)
