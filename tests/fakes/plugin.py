"""The test fixtures of the fakes and of the real bot against them, in one pytest plugin.

Registered in tests/conftest.py. `world` is what an end-to-end test uses: a fake Telegram, a fake
Model Dermatology server, the bot's settings on a database of its own, and the people.
`World.settled()` is how a test knows that nothing more is going to happen: assert that the bot
did NOT do something only after it, never after a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.conversation.common import SERVICES_KEY, BotApplication
from bot.db.migrate import upgrade_to_head
from tests.conversation.flows import WAIT
from tests.fakes.modelderm_server import FakeModelDerm
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser

# ------------------------------------------------------------------ the fakes


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


@pytest.fixture
async def modelderm_server() -> AsyncIterator[FakeModelDerm]:
    """A fake server in the test's own event loop (for async tests)."""
    async with FakeModelDerm() as server:
        yield server


@pytest.fixture
async def modelderm_backup_server() -> AsyncIterator[FakeModelDerm]:
    """A second fake server, for failover."""
    async with FakeModelDerm() as server:
        yield server


@pytest.fixture
def threaded_modelderm_server() -> Iterator[FakeModelDerm]:
    """A fake server in a background thread (for tests that run the CLI in a subprocess)."""
    with FakeModelDerm().in_thread() as server:
        yield server


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


# ------------------------------------------------------------------ PTB against the fake


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


def bot_via(fake: FakeTelegram, via: str) -> Bot:
    """A real Bot that talks to `fake` through process `via`'s own URLs (bench_faults.py with
    two processes tells their calls apart so)."""
    return Bot(
        fake.token,
        base_url=fake.base_url_for(via),
        base_file_url=fake.base_file_url_for(via),
        request=loopback_request(8),
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
            # PTB's JobQueue.stop waits for the jobs running, then shuts the scheduler down, which
            # cancels a job that fired in between (APScheduler 3) and logs it as an error. Pausing
            # first closes that window, so a test's "no errors logged" is about the bot.
            if app.job_queue is not None and app.job_queue.scheduler.running:
                app.job_queue.scheduler.pause()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


# ------------------------------------------------------------------ knowing the bot is done

# The bot's repeating jobs (bot/app.py): retrying pending checks and redelivering results, and
# the clinic's desk (posting, decisions, reminders).
RETRY_JOB = "retry-pending-cases"
TRIAGE_JOB = "triage"


class JobRuns:
    """Runs of the application's repeating jobs (PTB's JobQueue), seen through APScheduler's
    events: how many of each job are running, and how many have ended."""

    def __init__(self, application: BotApplication) -> None:
        assert application.job_queue is not None
        self._scheduler = application.job_queue.scheduler
        self._names: dict[str, str] = {}
        self.running: Counter[str] = Counter()
        self.ended: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self._scheduler.add_listener(
            self._seen, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )

    def _name(self, job_id: str) -> str:
        if job_id not in self._names:
            job = self._scheduler.get_job(job_id)
            self._names[job_id] = job.name if job is not None else job_id
        return self._names[job_id]

    def _seen(self, event: JobEvent) -> None:
        name = self._name(event.job_id)
        if event.code == EVENT_JOB_SUBMITTED:
            self.running[name] += 1
        else:
            # (A run submitted before this listened is not counted as running.)
            self.running[name] = max(0, self.running[name] - 1)
            self.ended[name] += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, within: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), within)

    def busy(self) -> list[str]:
        return [name for name, count in self.running.items() if count > 0]

    async def complete_rounds(self, name: str, rounds: int, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until `rounds` runs of the job `name` that start from now on have ended."""
        target = self.ended[name] + self.running[name] + rounds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.ended[name] < target:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"waited {timeout} s for {rounds} run(s) of the job {name!r}; "
                    f"{rounds - (target - self.ended[name])} ended"
                )
            await self.changed(remaining)


def _still_busy(application: BotApplication, telegram: FakeTelegram, jobs: JobRuns) -> list[str]:
    """What keeps the bot from being settled (nothing: settled)."""
    busy = []
    if not telegram.all_handed_out:
        busy.append(f"{telegram.pending_updates} update(s) not taken by the bot")
    if not application.update_queue.empty():
        busy.append(f"{application.update_queue.qsize()} update(s) queued in the bot")
    handling = application.update_processor.current_concurrent_updates
    if handling:
        busy.append(f"{handling} update(s) being handled")
    services = application.bot_data.get(SERVICES_KEY)
    if services is not None and services.tasks.running:
        busy.append(
            "background tasks " + ", ".join(sorted(t.get_name() for t in services.tasks.running))
        )
    busy += [f"job {name} running" for name in jobs.busy()]
    return busy


def _handling(application: BotApplication) -> bool:
    queued = not application.update_queue.empty()
    return queued or application.update_processor.current_concurrent_updates > 0


async def handle_updates(
    application: BotApplication,
    telegram: FakeTelegram,
    timeout: float = WAIT,  # noqa: ASYNC109
) -> None:
    """Wait until the bot has taken every update people sent and handled it (what handlers
    started in the background may still run)."""
    async with asyncio.timeout(timeout):
        while True:
            await telegram.handed_out(timeout)
            if _handling(application):
                await application.update_queue.join()
                continue
            # An update taken off PTB's queue starts being handled one loop turn later.
            await asyncio.sleep(0)
            if telegram.all_handed_out and not _handling(application):
                return


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:  # noqa: ASYNC109
    """Wait until `condition()` holds, for state that no event announces (looked at often)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.01)


async def settle(
    application: BotApplication,
    telegram: FakeTelegram,
    jobs: JobRuns,
    timeout: float = WAIT,  # noqa: ASYNC109
) -> None:
    """Wait until the bot is settled: it has taken every update people sent and handled it,
    and no background task (analysis, photo check, acknowledgement...) and no job runs."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        busy = _still_busy(application, telegram, jobs)
        if not busy:
            # An update taken off PTB's queue starts being handled one loop turn later: look
            # again after that turn.
            await asyncio.sleep(0)
            busy = _still_busy(application, telegram, jobs)
            if not busy:
                return
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"the bot did not settle within {timeout} s: {'; '.join(busy)}")
        if not telegram.all_handed_out:
            await telegram.handed_out(remaining)
        elif (
            not application.update_queue.empty()
            or application.update_processor.current_concurrent_updates
        ):
            await asyncio.wait_for(application.update_queue.join(), remaining)
        elif (
            services := application.bot_data.get(SERVICES_KEY)
        ) is not None and services.tasks.running:
            await asyncio.wait(list(services.tasks.running), timeout=remaining)
        else:
            await jobs.changed(remaining)


# ------------------------------------------------------------------ the world


@dataclass
class World:
    """Everything one end-to-end test needs: both fakes, the settings and the people."""

    telegram: FakeTelegram
    api: FakeModelDerm
    settings: Settings
    users: list[FakeUser] = field(default_factory=list)
    application: BotApplication | None = None
    jobs: JobRuns | None = None

    def person(self, name: str = "Alice", **kwargs: Any) -> FakeUser:
        user = FakeUser(self.telegram, name, settled=self.settled, **kwargs)
        self.users.append(user)
        return user

    @contextlib.asynccontextmanager
    async def bot(self, **overrides: Any) -> AsyncIterator[BotApplication]:
        """Run the real application; leaving the block stops it (as a restart would)."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        application = build_application(settings)
        with self.watching(application):
            async with running_application(application, poll_timeout=5):
                yield application

    @contextlib.contextmanager
    def watching(self, application: BotApplication) -> Iterator[None]:
        """Make `application` (built, not started yet) the bot that `settled` waits for."""
        self.application, self.jobs = application, JobRuns(application)
        try:
            yield
        finally:
            self.application = self.jobs = None

    async def settled(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Wait until the running bot has nothing left to do (see `settle`)."""
        assert self.application is not None and self.jobs is not None, "no bot is running"
        await settle(self.application, self.telegram, self.jobs, timeout)

    async def updates_handled(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Wait until the running bot has handled every update people sent (see
        `handle_updates`); unlike `settled`, background work may go on."""
        assert self.application is not None, "no bot is running"
        await handle_updates(self.application, self.telegram, timeout)

    async def job_rounds(self, name: str, rounds: int = 1, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Wait until `rounds` runs of the bot's repeating job `name` (e.g. "retry-pending-
        cases") that start from now on have ended, then until the bot is settled: whatever
        those runs started has ended too."""
        assert self.jobs is not None, "no bot is running"
        await self.jobs.complete_rounds(name, rounds, timeout)
        await self.settled(timeout)


def settings_for(telegram: FakeTelegram, api_urls: list[str], database: Path) -> Settings:
    return load_settings(
        env_file=None,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        telegram_file_base_url=telegram.base_file_url,
        modelderm_api_urls=api_urls,
        database_url=sqlite_url(database),
        # Short waits so that a test takes seconds, not minutes; the logic is the same.
        album_quiet_s=0.1,
        retry_interval_s=0.3,
        claim_lease_s=2.0,
        retry_base_s=0.2,
        retry_max_s=1.0,
        modelderm_max_attempts=2,
        modelderm_backoff_base_s=0.01,
        modelderm_backoff_max_s=0.05,
        modelderm_deadline_s=5.0,
        modelderm_request_timeout_s=3.0,
    )


def sqlite_url(database: Path) -> str:
    return f"sqlite+aiosqlite:///{database}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the latest revision once per test session, to be copied:
    running the migrations for every test took longer than many tests themselves."""
    template = tmp_path_factory.mktemp("template") / "bot.sqlite3"
    upgrade_to_head(sqlite_url(template))
    return template


@pytest.fixture
def migrated_database(migrated_template: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Makes a new database at the latest revision in this test's folder: `fresh("bot")`."""

    def fresh(name: str = "bot") -> Path:
        database = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(migrated_template, database)
        return database

    return fresh


@pytest.fixture
async def world(
    migrated_database: Callable[[str], Path],
    fake_telegram: FakeTelegram,
    modelderm_server: FakeModelDerm,
) -> World:
    settings = settings_for(fake_telegram, [modelderm_server.url], migrated_database("bot"))
    return World(fake_telegram, modelderm_server, settings)
