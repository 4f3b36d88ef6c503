"""`run`: start the bot (applies pending database migrations first)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import load_settings
from bot.logs import configure_logging


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="start the bot",
        description="Start the Telegram bot with the settings from the environment and .env.",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings()
    token = settings.require_token()
    configure_logging(settings.log_level_number, secrets=[token])
    # Imported here so that `--help` and configuration errors stay fast and import nothing heavy.
    from bot.app import run_bot
    from bot.cli.db import apply_migrations

    apply_migrations(settings)
    run_bot(settings)
    return 0
