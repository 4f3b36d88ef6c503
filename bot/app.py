"""`build_application(settings)`: the one place where the bot is wired together."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.conversation.analysis import retry_pending
from bot.conversation.common import SERVICES_KEY, BotApplication, BotContext
from bot.conversation.routing import BOT_COMMANDS, register_handlers
from bot.db.cases import requeue_interrupted
from bot.ops.checks import check_operation
from bot.ops.metrics import MeasuredRateLimiter, MeasuredUpdateProcessor, Metrics
from bot.ops.webhook import run_webhook, start_http, stop_http
from bot.services import Services

log = logging.getLogger(__name__)


def build_application(settings: Settings) -> BotApplication:
    metrics = Metrics()
    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, disable_notification=False))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(MeasuredUpdateProcessor(metrics))
        # Telegram bans bots that flood it; the limiter queues instead of failing in a burst.
        .rate_limiter(MeasuredRateLimiter(max_retries=3))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["metrics"] = metrics
    register_handlers(application)
    return application


async def _post_init(application: BotApplication) -> None:
    settings: Settings = application.bot_data["settings"]
    services = Services.open(settings, application.bot_data["metrics"])
    application.bot_data[SERVICES_KEY] = services
    async with services.sessions.begin() as session:
        parked = await requeue_interrupted(session)
    if parked:
        log.info("%d case(s) interrupted by the last stop will be retried", parked)
    await application.bot.set_my_commands(BOT_COMMANDS)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        retry_pending,
        interval=dt.timedelta(seconds=settings.retry_interval_s),
        first=dt.timedelta(seconds=min(5.0, settings.retry_interval_s)),
        name="retry-pending-cases",
    )
    await start_http(application)


async def _post_stop(application: BotApplication) -> None:
    # Telegram still works here (shutdown comes next): analyses in flight may finish and deliver;
    # what does not finish in time stays `submitted` and is retried after the restart.
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    if services is not None:
        await services.settle(services.settings.shutdown_grace_s)


async def _post_shutdown(application: BotApplication) -> None:
    await stop_http(application)
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.close()


def run_bot(settings: Settings) -> None:
    """Poll Telegram, or serve the webhook, until stopped (Ctrl+C or SIGTERM)."""
    check_operation(settings)
    application = build_application(settings)
    if settings.telegram_mode == "webhook":
        run_webhook(application)
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
