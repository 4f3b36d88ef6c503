"""The run command as a newcomer meets it: in a real subprocess, from the README's command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("TELEGRAM_", "MODELDERM_"))
    }
    clean["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
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
