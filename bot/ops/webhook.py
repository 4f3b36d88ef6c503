"""Starting and stopping the HTTP side, and the run loop of webhook mode.

Webhook mode follows the order of PTB's own `run_polling`/`run_webhook` (initialize, post_init,
start ... stop, post_stop, shutdown, post_shutdown) so that app.py's hooks behave the same in both
modes. On SIGTERM or SIGINT the server stops accepting first (Telegram keeps what it could not
deliver and retries it after the restart), then the updates already accepted are handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import Update

from bot.config import Settings
from bot.conversation.common import BotApplication
from bot.ops.checks import webhook_path
from bot.ops.server import OpsServer

log = logging.getLogger(__name__)

SERVER_KEY = "ops_server"


async def start_http(application: BotApplication) -> OpsServer | None:
    """Start the server this mode needs (if any) and, in webhook mode, tell Telegram the URL."""
    settings: Settings = application.bot_data["settings"]
    server: OpsServer | None = None
    if settings.telegram_mode == "webhook":
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        secret = settings.webhook_secret.get_secret_value()
        server = OpsServer(
            application,
            host=settings.webhook_listen_host,
            port=settings.webhook_listen_port,
            webhook_path=webhook_path(settings),
            webhook_secret=secret,
        )
    elif settings.health_port:
        server = OpsServer(
            application, host=settings.webhook_listen_host, port=settings.health_port
        )
    if server is None:
        return None
    await server.start()
    application.bot_data[SERVER_KEY] = server
    if settings.telegram_mode == "webhook":
        assert settings.webhook_url is not None
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("webhook set; Telegram will call %s", settings.webhook_url)
    return server


async def stop_http(application: BotApplication) -> None:
    server: OpsServer | None = application.bot_data.pop(SERVER_KEY, None)
    if server is not None:
        await server.stop()


async def serve_webhook(application: BotApplication, stop: asyncio.Event | None = None) -> None:
    """Run in webhook mode until `stop` is set or SIGTERM/SIGINT arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        # Only the main thread may install signal handlers (tests run this elsewhere too).
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        await stop.wait()
        log.info("stopping: no new updates are taken; finishing the ones in hand")
    finally:
        await stop_http(application)
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


def run_webhook(application: BotApplication) -> None:
    asyncio.run(serve_webhook(application))
