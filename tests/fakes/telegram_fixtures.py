"""Pytest fixtures and helpers for running the real PTB Application against the fake Telegram."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A fresh fake Bot API server on 127.0.0.1, stopped after the test."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def tg_user(fake_telegram: FakeTelegram) -> FakeUser:
    """A person ("Alice") in a private chat with the bot."""
    return FakeUser(fake_telegram, "Alice", username="alice_test")


@pytest.fixture
async def fake_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    """A real, initialized `telegram.Bot` talking to the fake."""
    async with bot_for(fake_telegram) as bot:
        yield bot


def loopback_request(connection_pool_size: int = 1) -> HTTPXRequest:
    """PTB's HTTP client without certificate loading: the fake is plain HTTP on loopback, and
    loading the CA bundle costs ~50 ms per client, twice per Bot, in every test."""
    return HTTPXRequest(connection_pool_size=connection_pool_size, httpx_kwargs={"verify": False})


def bot_for(fake: FakeTelegram) -> Bot:
    """A real `telegram.Bot` pointed at `fake` (call initialize/shutdown or use `async with`)."""
    return Bot(
        fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=loopback_request(256),
        get_updates_request=loopback_request(1),
    )


def application_builder(fake: FakeTelegram) -> ApplicationBuilder:  # type: ignore[type-arg]
    """An ApplicationBuilder already pointed at `fake` (add handlers after build()).
    Pool sizes are ApplicationBuilder's defaults (256 for calls, 1 for getUpdates)."""
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .request(loopback_request(256))
        .get_updates_request(loopback_request(1))
    )


@contextlib.asynccontextmanager
async def running_application(
    app: Application,  # type: ignore[type-arg]
    *,
    poll_timeout: float = 10.0,
    allowed_updates: list[str] | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run `app` with polling in the current event loop, in the order `run_polling` uses
    (initialize, post_init, polling, start ... stop, post_stop, shutdown, post_shutdown), and
    stop it cleanly even when the test body fails."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None, "build the Application with an Updater for polling"
        await app.updater.start_polling(
            poll_interval=0.0,
            timeout=int(poll_timeout),
            allowed_updates=allowed_updates,
        )
        await app.start()
        yield app
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
