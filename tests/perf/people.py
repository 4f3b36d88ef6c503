"""Simulated people and the bot process for the load and fault benchmarks.

A person reacts to whatever the bot shows last, as a person would: agree, "my own skin", two
photos, Done, every answer, Send, then wait for the result. If nothing happens for `patience`
seconds (an update lost to a crash, a stale button) they send /new, which shows where their
check stands. The fakes and the people run in the benchmark process; the bot runs as its own
process (`python -m bot run`), so its handling time and memory are its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conversation.flows import ALL_ANSWERS, photo
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import ChatMessage, FakeUser
from tests.ops.process import REPO, BotProcess, bot_environment, free_port

RESULT = "(AI match score)"
CARD = "The result above as a picture"
LATE = "the check you sent earlier"
ANALYSING = "Analysing your"
ANSWERS = {label for (label,) in ALL_ANSWERS}
# Cases not settled yet: being sent, waiting for a retry, or completed and not recorded delivered
# (the bot tries those again later, so a late duplicate would still be seen).
UNSETTLED = (
    "SELECT count(*) FROM cases WHERE status IN ('submitted', 'pending_retry') "
    "OR (status = 'completed' AND delivered_at IS NULL AND delivery_given_up_at IS NULL)"
)
GIVEN_UP = "SELECT count(*) FROM cases WHERE delivery_given_up_at IS NOT NULL"
# The bot's settings in the fault benchmarks: retries and backoffs short enough that a fault's
# consequences play out within a run.
FAULT_SETTINGS: dict[str, Any] = {
    "retry_interval_s": 1.0,
    "retry_base_s": 2.0,
    "retry_max_s": 8.0,
    "modelderm_max_attempts": 2,
    "modelderm_backoff_base_s": 0.2,
    "modelderm_backoff_max_s": 0.5,
    "shutdown_grace_s": 5,
}


@dataclass
class Person:
    user: FakeUser
    started_at: float = 0.0
    submitted_at: float | None = None
    finished_at: float | None = None
    nudges: int = 0
    # What the person was looking at each time they gave up waiting (for the report).
    stuck_on: list[str] = field(default_factory=list)
    acted: set[tuple[int, int]] = field(default_factory=set)
    # The photos this person sends (two made for everyone when empty); distinct photos let a
    # benchmark tell whose case an API request was for.
    photos: tuple[bytes, ...] = ()

    def results(self) -> list[ChatMessage]:
        """Distinct messages that show, or ever showed, a result text (a prompt result is the
        "Analysing…" message edited into it)."""
        return [m for m in self.user.messages if ever_said(m, RESULT)]

    def cards(self) -> list[ChatMessage]:
        return [m for m in self.user.messages if m.photo and CARD in m.text]


def ever_said(message: ChatMessage, words: str) -> bool:
    versions = [*message.edits, message.raw]
    return any(words in str(v.get("text") or v.get("caption") or "") for v in versions)


async def act(person: Person, message: ChatMessage) -> None:
    if message.deleted:
        # An acknowledgement replaced by a newer one: the person reacts to that one instead.
        return
    user, buttons, body = person.user, message.buttons, message.text
    if "✅ I agree" in buttons:
        await user.press("✅ I agree", message=message)
    elif "My own skin" in buttons:
        await user.press("My own skin", message=message)
    elif keep := next((label for label in buttons if label.startswith("Keep photo")), None):
        await user.press(keep, message=message)
    elif "📷" in body and "send 1 to 5 photos" in body:
        for data in person.photos or (photo(1), photo(2)):
            await user.send_photo(data)
    elif "✅ Done" in buttons:
        await user.press("✅ Done", message=message)
    elif "year of birth" in body:
        await user.send("1984")
    elif "📤 Send for analysis" in buttons:
        if person.submitted_at is None:
            person.submitted_at = time.perf_counter()
        await user.press("📤 Send for analysis", message=message)
    elif answer := next((label for label in buttons if label in ANSWERS), None):
        await user.press(answer, message=message)


async def live(person: Person, *, patience: float, give_up_at: float, think: float = 0.0) -> None:
    """Take one case from /start to its result (or until `give_up_at`).

    `think`: mean seconds a person takes to read and act (uniform in 0.5x-1.5x), 0 for none.
    """
    user = person.user
    person.started_at = time.perf_counter()
    await user.send("/start")
    quiet_since = time.monotonic()
    while time.monotonic() < give_up_at:
        if person.results():
            person.finished_at = time.perf_counter()
            return
        last = user.last_message
        if last is not None:
            key = (last.message_id, len(last.edits))
            if key not in person.acted:
                person.acted.add(key)
                if think:
                    await asyncio.sleep(think * random.uniform(0.5, 1.5))
                quiet_since = time.monotonic()
                await act(person, last)
        # Once "Analysing…" is shown the case is stored as sent and the result will come by
        # itself; before that, a press lost to a crash gets no answer and the person tries again.
        waiting = any(ANALYSING in m.text for m in user.messages)
        if not waiting and time.monotonic() - quiet_since > patience:
            person.nudges += 1
            if last is not None:
                person.stuck_on.append(f"{last.text[:50]!r} {sorted(last.buttons)[:3]}")
            quiet_since = time.monotonic()
            await user.send("/new")
        await user.chat.changed(1.0)


def _short(version: dict[str, Any]) -> str:
    said = str(version.get("text") or version.get("caption") or "")
    return f"#{version.get('message_id')} {said[:60]!r}"


def outcome(crowd: list[Person]) -> dict[str, Any]:
    """What the people got, as the fault benchmarks report it: started (pressed Send),
    completed, delivered_late, lost, duplicates (texts and cards), what each person shown a
    result twice saw, never_submitted and nudges."""
    submitted = [p for p in crowd if p.submitted_at is not None]
    results = {id(p): p.results() for p in crowd}
    cards = {id(p): p.cards() for p in crowd}
    duplicate_texts = {id(p) for p in crowd if len(results[id(p)]) > 1}
    duplicate_cards = {id(p) for p in crowd if len(cards[id(p)]) > 1}
    return {
        "started": len(submitted),
        "completed": sum(bool(results[id(p)]) for p in crowd),
        "delivered_late": sum(any(LATE in m.text for m in results[id(p)]) for p in crowd),
        "lost": sum(not results[id(p)] for p in submitted),
        "duplicates": len(duplicate_texts | duplicate_cards),
        "duplicate_texts": len(duplicate_texts),
        "duplicate_cards": len(duplicate_cards),
        # What each person shown a result twice saw: every version of those messages, shortened.
        "duplicated": [
            [[_short(v) for v in [*m.edits, m.raw]] for m in [*results[id(p)], *cards[id(p)]]]
            for p in crowd
            if id(p) in duplicate_texts | duplicate_cards
        ],
        "never_submitted": len(crowd) - len(submitted),
        "nudges": sum(p.nudges for p in crowd),
    }


def percentile_from_histogram(buckets: list[tuple[float, float]], q: float) -> float:
    """Like Prometheus' histogram_quantile: linear within the bucket holding the quantile."""
    total = buckets[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


async def update_histogram(
    http: httpx.AsyncClient, port: int, name: str = "update_own_seconds"
) -> list[tuple[float, float]]:
    from prometheus_client.parser import text_string_to_metric_families

    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    buckets = []
    for family in text_string_to_metric_families(text):
        if family.name == f"modelderm_bot_{name}":
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    buckets.append((float(sample.labels["le"]), sample.value))
    return sorted(buckets)


def merge(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not a:
        return b
    return [(bound, x + y) for (bound, x), (_, y) in zip(a, b, strict=True)]


@contextlib.asynccontextmanager
async def modelderm_process(latency: float) -> AsyncIterator[str]:
    """The fake API as its own process; yields its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.modelderm_server",
        "--latency",
        str(latency),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        yield str(json.loads(line)["url"])
    finally:
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)
        if process.returncode is None:
            process.kill()


def bot_env(
    telegram: FakeTelegram, api_urls: str, database: Path, health_port: int, **extra: Any
) -> dict[str, str]:
    settings: dict[str, Any] = {
        "telegram_bot_token": telegram.token,
        "telegram_api_base_url": telegram.base_url,
        "telegram_file_base_url": telegram.base_file_url,
        "modelderm_api_urls": api_urls,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "health_port": health_port,
        # Everyone sends one case here: the fair-use limits are not what is measured.
        "cases_per_hour": 100,
        "cases_per_day": 100,
        "log_level": "WARNING",
    }
    settings.update(extra)
    return bot_environment(**settings)


async def wait_healthy(http: httpx.AsyncClient, port: int, bot: BotProcess) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert bot.process is not None
        if bot.process.returncode is not None:
            raise RuntimeError(f"the bot exited:\n{bot.output()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the bot never became healthy:\n{bot.output()[-3000:]}")


@contextlib.asynccontextmanager
async def database_server(args: argparse.Namespace) -> AsyncIterator[str | None]:
    """The PostgreSQL server a benchmark's runs use (None for SQLite): --postgres-url, or one
    started on loopback for the benchmark, as .ci/run starts one, and stopped after it."""
    if args.database == "sqlite":
        yield None
        return
    if args.postgres_url:
        yield args.postgres_url
        return
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        port = free_port()
        server = await asyncio.to_thread(_start_postgres, Path(tmp), port)
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        finally:
            await asyncio.to_thread(server.stop)


@dataclass
class _Postgres:
    bin_dir: Path
    data: Path

    def stop(self) -> None:
        _as_postgres(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")


def _as_postgres(*command: str) -> None:
    if os.getuid() == 0:
        command = ("runuser", "-u", "postgres", "--", *command)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _start_postgres(directory: Path, port: int) -> _Postgres:
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        raise SystemExit(
            "no PostgreSQL server installed: apt-get install postgresql, or pass --postgres-url"
        )
    bin_dir = Path(initdb[-1]).parent
    if os.getuid() == 0:
        shutil.chown(directory, "postgres")
    data = directory / "data"
    _as_postgres(
        str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off"
    _as_postgres(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(directory / "log"),
        "-w",
        "-o",
        options,
        "start",
    )
    return _Postgres(bin_dir, data)


async def fresh_database(server: str) -> str:
    """A new, empty database on `server`, as a URL."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)
