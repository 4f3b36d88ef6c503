"""`build_application(settings)`: the one place where the bot is wired together."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, Defaults

from bot import terms
from bot.config import Settings
from bot.conversation.analysis import retry_pending
from bot.conversation.common import SERVICES_KEY, BotApplication, BotContext
from bot.conversation.processor import PerChatUpdateProcessor
from bot.conversation.routing import BOT_COMMANDS, localised_commands, register_handlers
from bot.db.cases import requeue_interrupted
from bot.services import Services
from bot.triage.desk import triage_job

log = logging.getLogger(__name__)


def build_application(settings: Settings) -> BotApplication:
    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, disable_notification=False))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(PerChatUpdateProcessor())
        # Telegram bans bots that flood it; the limiter queues instead of failing in a burst.
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    # With triage on, the consent text says the clinic sees the cases: its own terms version.
    terms.use_triage(settings.triage_enabled)
    register_handlers(application, triage_chat_id=settings.triage_chat_id)
    return application


async def _post_init(application: BotApplication) -> None:
    settings: Settings = application.bot_data["settings"]
    services = Services.open(settings)
    application.bot_data[SERVICES_KEY] = services
    async with services.sessions.begin() as session:
        parked = await requeue_interrupted(session)
    if parked:
        log.info("%d case(s) interrupted by the last stop will be retried", parked)
    await application.bot.set_my_commands(BOT_COMMANDS)
    for language_code, commands in localised_commands().items():
        await application.bot.set_my_commands(commands, language_code=language_code)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        retry_pending,
        interval=dt.timedelta(seconds=settings.retry_interval_s),
        first=dt.timedelta(seconds=min(5.0, settings.retry_interval_s)),
        name="retry-pending-cases",
    )
    if services.triage is not None:
        application.job_queue.run_repeating(
            _triage_job,
            interval=dt.timedelta(seconds=settings.triage_check_interval_s),
            first=dt.timedelta(seconds=min(1.0, settings.triage_check_interval_s)),
            name="triage",
        )


async def _triage_job(context: BotContext) -> None:
    await triage_job(context.bot, context.services)


async def _post_shutdown(application: BotApplication) -> None:
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.close()


def run_bot(settings: Settings) -> None:
    """Poll Telegram until stopped (Ctrl+C or SIGTERM)."""
    application = build_application(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES)
