"""`build_application(settings)`: the one place where the bot is wired together."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from collections.abc import Callable

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.conversation.common import LEADERSHIP_KEY, SERVICES_KEY, BotApplication, BotContext
from bot.conversation.intake import check_again_after_restart
from bot.db import fair_use
from bot.db.cases import requeue_interrupted
from bot.db.claims import take_over_claims, worker_id
from bot.db.consent import publish_terms
from bot.imaging.allocator import return_freed_memory
from bot.ops.checks import check_operation
from bot.ops.lifecycle import serve
from bot.ops.startup import check_telegram, explained
from bot.ops.webhook import set_webhook, start_http, stop_http
from bot.routing import BOT_COMMANDS, localised_commands, register_handlers
from bot.runtime.leadership import (
    LeaderRequest,
    Leadership,
    LeaderUpdateProcessor,
    LeaderUpdatesRequest,
)
from bot.runtime.metrics import MeasuredRateLimiter, Metrics
from bot.services.container import Services
from bot.services.retention import PURGE_FIRST_S, purge_expired
from bot.terms import Terms

log = logging.getLogger(__name__)

TELEGRAM_CONNECTIONS = 16
TELEGRAM_POOL_WAIT_S = 30.0
FAIR_USE_CLEANUP_EVERY = dt.timedelta(minutes=15)
# A claim is renewed this many times within its lease: one slow or failed renewal loses nothing.
CLAIM_RENEWALS_PER_LEASE = 3
REMINDERS_JOB = "follow-up-reminders"


def build_application(settings: Settings, leadership: Leadership | None = None) -> BotApplication:
    """The bot, not started; `leadership`: this process's (by default, the only process)."""
    metrics = Metrics()
    leadership = leadership or Leadership.alone(worker_id())
    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, disable_notification=False))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(LeaderUpdateProcessor(leadership, metrics))
        # Telegram bans bots that flood it; the limiter queues instead of failing in a burst.
        .rate_limiter(MeasuredRateLimiter(max_retries=3))
        # httpx scans every pooled connection (a socket poll each) whenever a request starts or
        # ends: with PTB's default of 256 that took a large share of the event loop in a burst
        # (docs/benchmarks.md). The rate limiter lets about 30 requests a second out, which
        # TELEGRAM_CONNECTIONS easily carry; a request that finds them all busy waits its turn
        # instead of failing after 1 s.
        .request(
            LeaderRequest(
                leadership,
                connection_pool_size=TELEGRAM_CONNECTIONS,
                pool_timeout=TELEGRAM_POOL_WAIT_S,
            )
        )
        # Every request passes the leadership's check, getUpdates included (PTB's default for
        # it: one connection).
        .get_updates_request(LeaderUpdatesRequest(leadership, connection_pool_size=1))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["metrics"] = metrics
    application.bot_data[LEADERSHIP_KEY] = leadership
    register_handlers(application, triage_chat_id=settings.triage_chat_id)
    return application


async def _post_init(application: BotApplication) -> None:
    settings: Settings = application.bot_data["settings"]
    services = Services.open(
        settings, application.bot_data["metrics"], application.bot_data[LEADERSHIP_KEY]
    )
    application.bot_data[SERVICES_KEY] = services
    parked = await services.database.run(_at_start, services.terms, services.claim.holder)
    if parked:
        log.info("%d case(s) interrupted by the last stop will be retried", parked)
    await application.bot.set_my_commands(BOT_COMMANDS)
    for language_code, commands in localised_commands().items():
        await application.bot.set_my_commands(commands, language_code=language_code)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        _retry_pending,
        interval=dt.timedelta(seconds=settings.retry_interval_s),
        first=dt.timedelta(seconds=min(5.0, settings.retry_interval_s)),
        name="retry-pending-cases",
    )
    # Claims run out after CLAIM_LEASE_S: renewed well before, while the work goes on.
    application.job_queue.run_repeating(
        _renew_claims,
        interval=dt.timedelta(seconds=settings.claim_lease_s / CLAIM_RENEWALS_PER_LEASE),
        name="renew-claims",
    )
    # Marks are also deleted whenever a check is sent; this keeps "after 24 hours" true when
    # nobody sends any.
    application.job_queue.run_repeating(
        _forget_fair_use_marks, interval=FAIR_USE_CLEANUP_EVERY, name="fair-use-marks"
    )
    purge_every = settings.retention_purge_interval_s
    application.job_queue.run_repeating(
        _purge_job,
        interval=dt.timedelta(seconds=purge_every),
        first=dt.timedelta(seconds=min(PURGE_FIRST_S, purge_every)),
        name="purge-expired-cases",
    )
    application.job_queue.run_repeating(
        _reminders_job,
        interval=dt.timedelta(seconds=settings.reminder_check_interval_s),
        first=dt.timedelta(seconds=min(5.0, settings.reminder_check_interval_s)),
        name=REMINDERS_JOB,
    )
    if services.triage is not None:
        application.job_queue.run_repeating(
            _triage_job,
            interval=dt.timedelta(seconds=settings.triage_check_interval_s),
            first=dt.timedelta(seconds=min(1.0, settings.triage_check_interval_s)),
            name="triage",
        )
    await check_again_after_restart(application)
    # Already started by `serve` when it runs the bot (a standby answers /healthz too).
    await start_http(application)
    await set_webhook(application)


def _at_start(session: Session, shown: Terms, holder: str) -> int:
    """The storage side of the start of a leader (`holder`): how many cases the last leader's
    stop interrupted (parked for a retry now)."""
    # Only a leader works, so what another worker holds is a previous leader's, which is dead
    # or refused everything since its lease lapsed: its work is taken over now, not after its
    # claims run out (the lease "leader" is this process's own, and is kept).
    take_over_claims(session, holder)
    parked = requeue_interrupted(session)
    # Made at the first start and kept for good: the marks of fair use depend on it.
    fair_use.ensure_key(session)
    # Consents are recorded for, and checked against, the texts this start shows.
    publish_terms(session, shown)
    return parked


async def _forget_fair_use_marks(context: BotContext) -> None:
    await context.services.database.run(fair_use.forget_expired)


async def _retry_pending(context: BotContext) -> None:
    await context.services.analysis.retry_pending(context.bot)


async def _renew_claims(context: BotContext) -> None:
    await context.services.analysis.renew_claims()


async def _reminders_job(context: BotContext) -> None:
    await context.services.reminders.send_due(context.bot)


async def _triage_job(context: BotContext) -> None:
    if (desk := context.services.triage) is not None:
        await desk.run_job(context.bot)


async def _purge_job(context: BotContext) -> None:
    settings = context.services.settings
    await purge_expired(
        context.bot,
        context.services.database,
        retention_days=settings.retention_days,
        clinic_chat_id=settings.triage_chat_id,
        claim=context.services.claim,
    )


async def _post_stop(application: BotApplication) -> None:
    # Telegram still works here (shutdown comes next): analyses in flight may finish and deliver;
    # what does not finish in time stays `submitted` and is retried after the restart.
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    leadership: Leadership = application.bot_data[LEADERSHIP_KEY]
    # A process whose leadership lapsed may deliver nothing: what it had in hand is the next
    # leader's, who takes its claims over as it starts leading.
    if services is not None and not leadership.lapsed:
        await services.settle(services.settings.shutdown_grace_s)


async def _post_shutdown(application: BotApplication) -> None:
    await stop_http(application)
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.close()


def run_bot(settings: Settings, migrate: Callable[[], None]) -> int:
    """Poll Telegram, or serve the webhook, until stopped (Ctrl+C or SIGTERM); the exit status.
    On PostgreSQL the process first stands by until it leads; `migrate` (blocking) brings the
    schema up to date once it does.

    Raises StartupFailure (one sentence) when Telegram or the database cannot be used.
    """
    check_operation(settings)
    # Before any thread starts: memory of freed photos goes back to the system.
    return_freed_memory()
    asyncio.run(check_telegram(settings))
    application = build_application(settings, leadership_of(settings))
    # Everything imported so far lives as long as the process: out of the garbage collector's
    # sight, its full collections pause the loop far less, and each pause delays every update
    # in flight (measured under tests/perf/bench_load.py; the pauses are in docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    with explained(settings):
        return asyncio.run(serve(application, migrate=migrate))


def leadership_of(settings: Settings) -> Leadership:
    """PostgreSQL: a lease to take, shared with any other process; SQLite: the only process
    (bot/db/one_process.py), leading from the start."""
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return Leadership(worker_id(), settings.leader_lease_s)
    return Leadership.alone(worker_id())
