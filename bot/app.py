"""The Telegram application. The conversation itself arrives with issue 5."""

from __future__ import annotations

from bot.cli import EXIT_FAILED, CommandError
from bot.config import Settings


def run_bot(settings: Settings) -> None:
    raise CommandError(
        "the Telegram conversation is not built yet; only diagnose and status work so far.",
        EXIT_FAILED,
    )
