"""Starting and stopping the HTTP side: the bot's server, and telling Telegram the webhook."""

from __future__ import annotations

import logging

from telegram import Update

from bot.config import Settings
from bot.conversation.common import BotApplication
from bot.ops.checks import webhook_path
from bot.ops.server import OpsServer

log = logging.getLogger(__name__)

SERVER_KEY = "ops_server"


async def start_http(application: BotApplication) -> OpsServer | None:
    """Start the server this mode needs (if any, and once): the webhook's in webhook mode, else
    /healthz and /metrics on HEALTH_PORT when that is set."""
    if SERVER_KEY in application.bot_data:
        server: OpsServer | None = application.bot_data[SERVER_KEY]
        return server
    settings: Settings = application.bot_data["settings"]
    if settings.telegram_mode == "webhook":
        assert settings.webhook_secret is not None
        server = OpsServer(
            application,
            host=settings.webhook_listen_host,
            port=settings.webhook_listen_port,
            webhook_path=webhook_path(settings),
            webhook_secret=settings.webhook_secret.get_secret_value(),
        )
    elif settings.health_port:
        server = OpsServer(
            application, host=settings.webhook_listen_host, port=settings.health_port
        )
    else:
        return None
    await server.start()
    application.bot_data[SERVER_KEY] = server
    return server


async def set_webhook(application: BotApplication) -> None:
    """Webhook mode: tell Telegram where to send the updates (the leader does, once it leads)."""
    settings: Settings = application.bot_data["settings"]
    if settings.telegram_mode != "webhook":
        return
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    await application.bot.set_webhook(
        settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
    )
    log.info("webhook set; Telegram will call %s", settings.webhook_url)


async def stop_http(application: BotApplication) -> None:
    server: OpsServer | None = application.bot_data.pop(SERVER_KEY, None)
    if server is not None:
        await server.stop()
