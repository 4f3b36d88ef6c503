"""Two bot processes on one PostgreSQL database: one leads, the other stands by and takes over.

Real processes (`python -m bot run`), as systemd runs them, against the fake Telegram.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.fakes.modelderm_server import FakeModelDerm
from tests.fakes.plugin import until
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.ops.process import BotProcess, bot_environment, free_port, healthz, until_role
from tests.postgres import fresh_postgres_database

LEASE_S = 2.0
# A process starts (imports, getMe, migrations) or takes over in a few seconds; a loaded CI
# machine is slower (how fast a takeover is, is measured by tests/perf/bench_faults.py).
STARTUP = 60.0
WELCOME = "Hello!"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


class Process:
    """One `run` process and its /healthz."""

    def __init__(self, workdir: Path, env: dict[str, str], port: int) -> None:
        self.bot = BotProcess(workdir, env)
        self.port = port

    async def health(self) -> dict[str, Any]:
        return await healthz(self.port)

    async def until_role(self, role: str) -> dict[str, Any]:
        return await until_role(self.port, role, STARTUP, alive=self._alive)

    def _alive(self) -> None:
        assert self.bot.process is not None
        if self.bot.process.returncode is not None:
            raise AssertionError(f"the bot exited:\n{self.bot.output()[-3000:]}")


@pytest.fixture
async def processes(
    tmp_path: Path, postgres_url: str, fake_telegram: FakeTelegram
) -> AsyncIterator[list[Process]]:
    """Two processes (not started) on one new PostgreSQL database, each in its own folder."""
    async with FakeModelDerm() as api:
        made = []
        for name in ("a", "b"):
            port = free_port()
            env = bot_environment(
                telegram_bot_token=fake_telegram.token,
                telegram_api_base_url=fake_telegram.base_url,
                telegram_file_base_url=fake_telegram.base_file_url,
                modelderm_api_urls=api.url,
                database_url=postgres_url,
                health_port=port,
                leader_lease_s=LEASE_S,
                shutdown_grace_s=1.0,
                log_level="INFO",
            )
            (tmp_path / name).mkdir()
            made.append(Process(tmp_path / name, env, port))
        try:
            yield made
        finally:
            for process in made:
                if process.bot.process is not None and process.bot.process.returncode is None:
                    process.bot.process.send_signal(signal.SIGCONT)
                    await process.bot.stop(signal.SIGKILL)


async def lead_and_stand_by(first: Process, second: Process) -> dict[str, Any]:
    """Start `first` (on a new database it migrates it) until it leads, then `second` until it
    stands by; the standby's /healthz."""
    await first.bot.start()
    await first.until_role("leader")
    await second.bot.start()
    return await second.until_role("standby")


async def test_the_second_process_stands_by_then_takes_over_when_the_leader_stops(
    processes: list[Process], fake_telegram: FakeTelegram
) -> None:
    first, second = processes
    standby = await lead_and_stand_by(first, second)
    assert standby["http_status"] == 200 and standby["database"] == "ok"
    await second.bot.logged("standing by: another bot process leads", 1)

    alice = FakeUser(fake_telegram, "Alice")
    await alice.send("/start")
    await alice.wait_for(WELCOME, timeout=STARTUP)

    assert await first.bot.stop() == 0
    await second.until_role("leader")
    bob = FakeUser(fake_telegram, "Bob")
    await bob.send("/start")
    await bob.wait_for(WELCOME, timeout=STARTUP)
    assert await second.bot.stop() == 0

    logs = first.bot.output() + second.bot.output()
    # Never two pollers at once (Telegram answers the second with 409 Conflict).
    assert "Conflict" not in logs
    assert "Traceback" not in logs
    assert [m.text.count(WELCOME) for m in alice.messages] == [1]


async def test_a_frozen_leader_is_replaced_and_once_continued_acts_on_nothing(
    processes: list[Process], fake_telegram: FakeTelegram
) -> None:
    first, second = processes
    await lead_and_stand_by(first, second)
    assert first.bot.process is not None
    first.bot.process.send_signal(signal.SIGSTOP)
    await second.until_role("leader")
    alice = FakeUser(fake_telegram, "Alice")
    await alice.send("/start")
    await alice.wait_for(WELCOME, timeout=STARTUP)

    first.bot.process.send_signal(signal.SIGCONT)
    # It notices at once that its lease is over, says so and stops for its supervisor to
    # restart it as a standby.
    assert await asyncio.wait_for(first.bot.process.wait(), STARTUP) == 75
    assert "lost the leadership" in first.bot.output()
    # The new leader goes on serving.
    bob = FakeUser(fake_telegram, "Bob")
    await bob.send("/start")
    await bob.wait_for(WELCOME, timeout=STARTUP)
    assert [m.text.count(WELCOME) for m in alice.messages] == [1]
    assert (await second.health())["role"] == "leader"


async def test_two_processes_started_at_once_on_a_new_database_one_leads_one_stands_by(
    processes: list[Process],
) -> None:
    """Two processes started at once on a new database: one migrates and leads, the other
    stands by (the migration is not run twice over)."""
    first, second = processes
    await asyncio.gather(first.bot.start(), second.bot.start())
    roles = set()
    for process in (first, second):
        await until(
            lambda p=process: (
                p.bot.output().count("leads now") + p.bot.output().count("standing by") > 0
            ),
            "a role in the log",
            timeout=STARTUP,
        )
    for process in (first, second):
        body = await process.health()
        roles.add(body.get("role"))
    assert roles == {"leader", "standby"}


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 to the PostgreSQL server, whose line can be cut: every open
    connection dropped and new ones refused, as when the network to the database fails."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()


async def test_a_leader_that_loses_its_database_stops_before_its_lease_runs_out(
    tmp_path: Path, postgres_url: str, fake_telegram: FakeTelegram
) -> None:
    url = make_url(postgres_url)
    assert url.host is not None and url.port is not None
    proxy = CuttableProxy(url.host, url.port)
    await proxy.start()
    port = free_port()
    env = bot_environment(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        telegram_file_base_url=fake_telegram.base_file_url,
        modelderm_api_urls="http://127.0.0.1:9/",
        database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False),
        health_port=port,
        leader_lease_s=LEASE_S,
        log_level="INFO",
    )
    leader = Process(tmp_path, env, port)
    await leader.bot.start()
    try:
        await leader.until_role("leader")
        await leader.bot.logged("Application started", 1)
        await proxy.cut()
        # Its lease ran out at most LEASE_S after the cut (its last renewal came before it);
        # it stops acting a renewal interval before that, and says so at its next try.
        await leader.bot.logged(
            "lost the leadership (the database could not renew its lease in time)",
            1,
            timeout=2 * LEASE_S,
        )
        assert leader.bot.process is not None
        assert await asyncio.wait_for(leader.bot.process.wait(), STARTUP) == 75
    finally:
        await leader.bot.stop(signal.SIGKILL)
        await proxy.cut()
