"""The bot as a separate process (`python -m bot run`), as systemd runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a server the test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def healthz(port: int) -> dict[str, Any]:
    """The bot's /healthz on `port` with its HTTP status as "http_status" ({} if unreachable)."""
    async with httpx.AsyncClient() as http:
        try:
            answer = await http.get(f"http://127.0.0.1:{port}/healthz")
        except httpx.HTTPError:
            return {}
    body: dict[str, Any] = answer.json()
    body["http_status"] = answer.status_code
    return body


async def until_role(
    port: int,
    role: str,
    timeout: float,  # noqa: ASYNC109
    alive: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """/healthz on `port` once it says `role` with 200 (a leader still opening is "starting", a
    standby that has not tried the lease yet does not know the database); `alive` raises if
    the process is gone."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (body := await healthz(port)).get("role") != role or body["http_status"] != 200:
        alive()
        if loop.time() > deadline:
            raise AssertionError(f"waited {timeout} s for role {role}, got {body}")
        await asyncio.sleep(0.05)
    return body


def bot_environment(**settings: Any) -> dict[str, str]:
    """This process's environment without any bot setting, plus `settings` (NAME=value)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env["PYTHONPATH"] = str(REPO)
    for name, value in settings.items():
        env[name.upper()] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return env


class BotProcess:
    """`python -m bot run` in `workdir` (no .env there), stopped with a signal."""

    def __init__(self, workdir: Path, env: dict[str, str], log: Path | None = None) -> None:
        self.workdir, self.env = workdir, env
        self.log = log or workdir / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            # BOT_PROFILE=<file>: run the bot under cProfile (for finding hot spots).
            profile = os.environ.get("BOT_PROFILE")
            wrap = ["-m", "cProfile", "-o", profile] if profile else []
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *wrap,
                "-m",
                "bot",
                "run",
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=out,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def peak_rss_mb(self) -> float:
        """Peak resident memory so far (VmHWM), read while the process is alive."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """Send `sig` and wait for the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def logged(self, text: str, count: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until the bot's log has `count` lines containing `text` (a file announces
        nothing: it is read again every 50 ms)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.output().count(text) < count:
            if loop.time() > deadline:
                raise AssertionError(f"waited {timeout} s for {count} log lines with {text!r}")
            await asyncio.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
