"""The life of a `run` process: stand by, lead, take updates, stop.

1. The HTTP server starts first: a standby answers /healthz with its role and the webhook with
   503, so Telegram (or a reverse proxy trying both processes) goes elsewhere.
2. On PostgreSQL the process waits until it leads (bot/runtime/leadership.py); on SQLite it is
   the only process and leads at once. Nothing before that touches the schema, the cases in
   flight, the jobs or Telegram's updates.
3. Once it leads: the schema is migrated, then the application runs in the order of PTB's own
   `run_polling` (initialize, post_init, polling, start ... stop, post_stop, shutdown,
   post_shutdown), in both modes, so app.py's hooks behave the same.

On SIGTERM or SIGINT the server stops accepting first (Telegram keeps what it could not deliver
and retries it), the updates in hand are handled, then the lease is given back so that the
standby takes over at once. A process whose leadership lapsed stops the same way, acting on
nothing more (every effect is refused by then), and exits with EXIT_LAPSED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator

from telegram import Update

from bot.config import Settings
from bot.conversation.common import LEADERSHIP_KEY, BotApplication
from bot.db.leadership import leases_exist
from bot.ops.webhook import start_http, stop_http
from bot.runtime.leadership import Leadership, LeaseKeeper, NotLeading

log = logging.getLogger(__name__)

# EX_TEMPFAIL: the process's supervisor starts it again, and it stands by.
EXIT_LAPSED = 75
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _no_migration() -> None:
    """For a caller whose schema is up to date already (tests)."""


async def serve(
    application: BotApplication,
    *,
    migrate: Callable[[], None] = _no_migration,
    stop: asyncio.Event | None = None,
) -> int:
    """Run `application` until `stop` is set, SIGTERM/SIGINT arrives or its leadership lapses;
    the exit status. `migrate` (blocking) brings the schema up to date once the process leads."""
    settings: Settings = application.bot_data["settings"]
    leadership: Leadership = application.bot_data[LEADERSHIP_KEY]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    led = asyncio.Event()
    leadership.when_led(lambda: loop.call_soon_threadsafe(led.set))
    leadership.when_lapsed(lambda: loop.call_soon_threadsafe(stop.set))
    keeper = None if leadership.leads() else LeaseKeeper(leadership, settings.database_url)
    with _signals_set(loop, stop):
        try:
            await start_http(application)
            if keeper is not None:
                if not await asyncio.to_thread(leases_exist, settings.database_url):
                    # A database that no leading process of this version has used yet: there
                    # is no lease to wait for before the schema has one (two processes starting
                    # at once migrate one after the other: migrations/env.py).
                    await asyncio.to_thread(migrate)
                keeper.start()
                await _first_of(led, stop)
            if not stop.is_set():
                await asyncio.to_thread(migrate)
            if not stop.is_set():
                await _run_application(application, stop)
        except NotLeading:
            pass  # the leadership lapsed during the start: nothing more is done
        finally:
            await stop_http(application)
            if keeper is not None:
                await asyncio.to_thread(keeper.stop, step_down=not leadership.lapsed)
    return EXIT_LAPSED if leadership.lapsed else 0


async def _run_application(application: BotApplication, stop: asyncio.Event) -> None:
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        if application.updater is not None and not _webhook_mode(application):
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await application.start()
        await stop.wait()
        log.info("stopping: no new updates are taken; finishing the ones in hand")
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def _webhook_mode(application: BotApplication) -> bool:
    settings: Settings = application.bot_data["settings"]
    return settings.telegram_mode == "webhook"


async def _first_of(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


@contextlib.contextmanager
def _signals_set(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    for sig in _SIGNALS:
        # Only the main thread may install signal handlers (tests run this elsewhere too).
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
