"""Webhook mode: Telegram's secret header is required, and the whole conversation works."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import build_application
from bot.config import ConfigError, Settings
from bot.conversation.common import BotApplication
from bot.db.claims import Claim
from bot.db.database import Database
from bot.db.leadership import lead, step_down
from bot.db.migrate import upgrade_to_head
from bot.ops.checks import check_operation
from bot.ops.lifecycle import serve
from bot.ops.server import OpsServer
from bot.ops.webhook import SERVER_KEY
from bot.runtime.leadership import Leadership
from tests.conversation.flows import complete_case
from tests.fakes.plugin import World, until
from tests.fakes.telegram_server import FakeTelegram
from tests.ops.process import free_port, until_role
from tests.postgres import fresh_postgres_database

SECRET = "s3cr3t-token_for-tests-0123456789"
PUBLIC_URL = "https://bot.example.org/telegram-hook"
# A start (migrations, opening) on a loaded CI machine.
ROLE_WAIT_S = 30.0


def webhook_settings(world: World, **extra: Any) -> Settings:
    return world.settings.model_copy(
        update={
            "telegram_mode": "webhook",
            "webhook_url": PUBLIC_URL,
            "webhook_secret": SECRET,
            "webhook_listen_port": free_port(),
            **extra,
        }
    )


@contextlib.asynccontextmanager
async def webhook_bot(
    world: World, settings: Settings
) -> AsyncIterator[tuple[BotApplication, str]]:
    """Run the bot in webhook mode; yields the application and its local webhook URL."""
    from pydantic import SecretStr

    settings = settings.model_copy(update={"webhook_secret": SecretStr(SECRET)})
    application = build_application(settings)
    stop = asyncio.Event()
    with world.watching(application):
        running = asyncio.create_task(serve(application, stop=stop))
        await until(
            lambda: running.done() or (SERVER_KEY in application.bot_data and application.running),
            "the webhook server to start",
        )
        if running.done():
            running.result()
        server: OpsServer = application.bot_data[SERVER_KEY]
        try:
            yield application, f"http://127.0.0.1:{server.port}/telegram-hook"
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)


def start_update(telegram: FakeTelegram) -> tuple[dict[str, Any], int]:
    user = telegram.add_user("Mallory")
    chat = telegram.private_chat(user)
    message = telegram.add_user_message(
        chat,
        user,
        {"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
    )
    return {"update_id": 42, "message": message.data}, chat.id


def bot_messages(telegram: FakeTelegram, chat_id: int) -> list[str]:
    chat = telegram.chats[chat_id]
    return [m.text for m in chat.messages.values() if m.from_bot]


async def test_requests_without_the_right_secret_are_refused_and_not_handled(world: World) -> None:
    async with webhook_bot(world, webhook_settings(world)) as (_, url):
        webhook = world.telegram.webhook
        assert webhook is not None and webhook["url"] == PUBLIC_URL
        assert webhook["secret_token"] == SECRET
        assert "message" in webhook["allowed_updates"]
        update, chat_id = start_update(world.telegram)
        async with httpx.AsyncClient() as http:
            missing = await http.post(url, json=update)
            wrong = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
            )
            assert (missing.status_code, wrong.status_code) == (403, 403)
            await world.settled()
            assert bot_messages(world.telegram, chat_id) == []
            right = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            assert right.status_code == 200
            await until(lambda: bool(bot_messages(world.telegram, chat_id)), "the welcome")
        assert "Hello!" in bot_messages(world.telegram, chat_id)[0]


NOT_UPDATES = (
    "[]",
    "{}",
    "null",
    "[1, 2]",
    '"an update"',
    '{"update_id": "x"}',
    '{"update_id": true}',
    '{"update_id": 1, "message": "hello"}',
    '{"update_id": 1, "message": {}}',
    "{not json",
)


async def test_a_body_that_is_not_an_update_gets_400_and_one_line_in_the_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with webhook_bot(world, webhook_settings(world)) as (_, url), httpx.AsyncClient() as http:
        with caplog.at_level("INFO"):
            caplog.clear()
            statuses = [
                (await http.post(url, content=body, headers=headers)).status_code
                for body in NOT_UPDATES
            ]
            refused = [r for r in caplog.records if r.name.startswith(("bot.", "tornado"))]
        # A real update afterwards is handled as usual: nothing was left broken.
        update, chat_id = start_update(world.telegram)
        right = await http.post(url, json=update, headers=headers)
        await until(lambda: bool(bot_messages(world.telegram, chat_id)), "the welcome")
    assert statuses == [400] * len(NOT_UPDATES)
    assert right.status_code == 200 and "Hello!" in bot_messages(world.telegram, chat_id)[0]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    # One line each, saying why; the body itself is not logged.
    assert len(refused) == len(NOT_UPDATES)
    assert all("400 POST" in r.getMessage() for r in refused)
    assert all("not a Telegram update" in r.getMessage() for r in refused)
    assert not any("hello" in r.getMessage() for r in refused)


async def test_a_whole_case_through_the_webhook(world: World) -> None:
    alice = world.person("Alice")
    async with webhook_bot(world, webhook_settings(world)) as (_, url):
        # The fake Telegram pushes updates to the bot, as Telegram does through the proxy.
        world.telegram.deliver_to(url)
        result = await complete_case(alice)
        assert "AI estimate" in result.text
        async with httpx.AsyncClient() as http:
            health = await http.get(url.replace("/telegram-hook", "/healthz"))
        assert health.status_code == 200 and health.json()["database"] == "ok"
    # Polling would now conflict with the webhook (Telegram answers 409): it never polled.
    assert world.telegram.calls_to("getUpdates") == []
    assert all(status == 200 for _, status in world.telegram.webhook_deliveries)
    assert len(world.api.requests) == 1


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"webhook_url": None}, "WEBHOOK_URL"),
        ({"webhook_url": "http://bot.example.org/x"}, "WEBHOOK_URL"),
        ({"webhook_secret": None}, "WEBHOOK_SECRET"),
        ({"webhook_secret": "short"}, "WEBHOOK_SECRET"),
        ({"webhook_secret": "has spaces in it, not allowed!"}, "WEBHOOK_SECRET"),
    ],
)
def test_webhook_mode_refuses_to_start_without_url_or_secret(
    changes: dict[str, Any], named: str
) -> None:
    from pydantic import SecretStr

    base: dict[str, Any] = {
        "telegram_mode": "webhook",
        "webhook_url": PUBLIC_URL,
        "webhook_secret": SECRET,
    }
    base.update(changes)
    if base["webhook_secret"] is not None:
        base["webhook_secret"] = SecretStr(base["webhook_secret"])
    settings = Settings(_env_file=None, **base)
    with pytest.raises(ConfigError) as caught:
        check_operation(settings)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_a_standby_answers_the_webhook_with_503_until_it_leads(world: World) -> None:
    """Telegram (or the reverse proxy in front of both processes) is told to try again while
    another process leads; the standby sets no webhook and handles nothing until it leads."""
    from pydantic import SecretStr

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with fresh_postgres_database() as url, Database.open(url) as database:
        await asyncio.to_thread(upgrade_to_head, url)
        other = Claim("the-other-process", dt.timedelta(seconds=60))
        assert await database.run(lead, other)
        settings = webhook_settings(
            world, database_url=url, leader_lease_s=2.0, webhook_secret=SecretStr(SECRET)
        )
        application = build_application(settings, Leadership("this-process", 2.0))
        stop = asyncio.Event()
        with world.watching(application):
            running = asyncio.create_task(serve(application, stop=stop))
            try:
                await until(lambda: SERVER_KEY in application.bot_data, "the server to start")
                port = application.bot_data[SERVER_KEY].port
                hook = f"http://127.0.0.1:{port}/telegram-hook"
                update, chat_id = start_update(world.telegram)
                async with httpx.AsyncClient() as http:
                    await until_role(port, "standby", ROLE_WAIT_S)
                    refused = await http.post(hook, json=update, headers=headers)
                    assert refused.status_code == 503
                    assert world.telegram.webhook is None
                    await database.run(step_down, other.holder)
                    await until_role(port, "leader", ROLE_WAIT_S)
                    await until(lambda: world.telegram.webhook is not None, "the webhook set")
                    assert (await http.post(hook, json=update, headers=headers)).status_code == 200
                    await until(lambda: bool(bot_messages(world.telegram, chat_id)), "the welcome")
            finally:
                stop.set()
                assert await asyncio.wait_for(running, 20) == 0
    assert "Hello!" in bot_messages(world.telegram, chat_id)[0]
