"""The run command as a newcomer meets it: in a real subprocess, from the README's command."""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.db.migrate import upgrade_to_head
from bot.db.one_process import hold_sqlite_database
from tests.fakes.telegram_server import FakeTelegram

REPO = Path(__file__).resolve().parents[1]


def environment(env: dict[str, str] | None) -> dict[str, str]:
    """This process's environment without Telegram or API settings, plus `env`."""
    clean = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("TELEGRAM_", "MODELDERM_"))
    }
    clean["PYTHONPATH"] = str(REPO)
    clean.update(env or {})
    return clean


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_exits_2_with_one_plain_sentence(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "@BotFather" in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_setting_exits_2_without_traceback(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": "1:x", "LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    from bot.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert "run" in commands
    for name in commands:
        result = run_cli(name, "--help", cwd=tmp_path)
        assert result.returncode == 0, (name, result.stderr)
        assert "usage:" in result.stdout


async def run_cli_async(
    *args: str,
    cwd: Path,
    env: dict[str, str],
    preexec_fn: Callable[[], None] | None = None,
) -> tuple[int, str]:
    """`run_cli`, for tests whose fake servers run on this test's event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec_fn,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def one_sentence(stderr: str) -> str:
    """The line the command ended with; nothing in the output may be a traceback."""
    assert "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("modelderm-bot: "), stderr
    return last


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_token_telegram_refuses_exits_2_with_one_sentence(
    tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    wrong = "987654321:AAWrongTokenForThisTest-0123456789abcd"
    status, stderr = await run_cli_async(
        "run",
        cwd=tmp_path,
        env={
            "TELEGRAM_BOT_TOKEN": wrong,
            "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
            "TELEGRAM_FILE_BASE_URL": fake_telegram.base_file_url,
        },
    )
    sentence = one_sentence(stderr)
    assert status == 2
    assert "refused" in sentence and "TELEGRAM_BOT_TOKEN" in sentence and "@BotFather" in sentence
    assert wrong not in stderr and wrong.split(":")[1] not in stderr


async def test_telegram_unreachable_exits_2_with_one_sentence(tmp_path: Path) -> None:
    port = closed_port()
    status, stderr = await run_cli_async(
        "run",
        cwd=tmp_path,
        env={
            "TELEGRAM_BOT_TOKEN": "123456789:AAFakeTokenForTestsOnly-0123456789ab",
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
            "TELEGRAM_FILE_BASE_URL": f"http://127.0.0.1:{port}/file/bot",
        },
    )
    sentence = one_sentence(stderr)
    assert status == 2
    assert "could not reach Telegram" in sentence and f"127.0.0.1:{port}" in sentence
    assert "network" in sentence and "TELEGRAM_API_BASE_URL" in sentence


async def test_a_postgresql_server_that_cannot_be_reached_exits_with_one_sentence(
    tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    port = closed_port()
    status, stderr = await run_cli_async(
        "run",
        cwd=tmp_path,
        env={
            "TELEGRAM_BOT_TOKEN": fake_telegram.token,
            "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
            "TELEGRAM_FILE_BASE_URL": fake_telegram.base_file_url,
            "DATABASE_URL": f"postgresql+asyncpg://bot:hunter2@127.0.0.1:{port}/bot",
        },
    )
    sentence = one_sentence(stderr)
    assert status != 0
    assert "database could not be reached" in sentence
    assert "hunter2" not in stderr


def without_root_override() -> None:
    """In the child, before exec: root loses the power to write files it may not write (tests may
    run as root, where a read-only file is written regardless); nothing else changes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


@pytest.mark.parametrize("migrated", [True, False], ids=["up-to-date", "never-migrated"])
async def test_a_read_only_database_exits_2_with_one_sentence(
    tmp_path: Path, fake_telegram: FakeTelegram, migrated: bool
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "bot.sqlite3"
    if migrated:
        await asyncio.to_thread(upgrade_to_head, f"sqlite+aiosqlite:///{database}")
    else:
        sqlite3.connect(database).close()  # an empty file
    database.chmod(0o444)
    folder.chmod(0o555)
    env = {
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "TELEGRAM_FILE_BASE_URL": fake_telegram.base_file_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }
    try:
        status, stderr = await run_cli_async(
            "run",
            cwd=tmp_path,
            env=env,
            preexec_fn=without_root_override if os.geteuid() == 0 else None,
        )
    finally:
        folder.chmod(0o755)
    sentence = one_sentence(stderr)
    assert status == 2
    assert "cannot write to its database" in sentence and str(database) in sentence
    assert "DATABASE_URL" in sentence and "write access" in sentence


async def test_a_second_process_on_one_sqlite_database_refuses_with_one_sentence(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.sqlite3'}"
    # The first bot process holds its database as `run` makes it do.
    first = hold_sqlite_database(url)
    assert first is not None
    env = {
        "TELEGRAM_BOT_TOKEN": "123456789:AAFakeTokenForTestsOnly-0123456789ab",
        "DATABASE_URL": url,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{closed_port()}/bot",
    }
    status, stderr = await run_cli_async("run", cwd=tmp_path, env=env)
    sentence = one_sentence(stderr)
    assert status == 1
    assert "Another bot process is already running" in sentence and "PostgreSQL" in sentence
    # However the first one ends (a crash too), the system drops its lock: a restart starts
    # (and here stops at the unreachable Telegram, past the database).
    os.close(first)
    status, stderr = await run_cli_async("run", cwd=tmp_path, env=env)
    assert status == 2 and "Another bot process" not in stderr
