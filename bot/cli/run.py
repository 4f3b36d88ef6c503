"""`run`: start the bot (applies pending database migrations first)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from bot.config import PUBLIC_MODELDERM_KEY, load_settings
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
    api_key = settings.modelderm_api_key.get_secret_value()
    # The documented public key `test` is no secret, and redacting that word would garble logs.
    secrets = [token] if api_key == PUBLIC_MODELDERM_KEY else [token, api_key]
    configure_logging(settings.log_level_number, secrets=secrets)
    # Imported here so that `--help` and configuration errors stay fast and import nothing heavy.
    from bot.app import run_bot
    from bot.cli.db import apply_migrations

    if settings.log_level_number > logging.DEBUG:
        # Alembic narrates every migration step at INFO; `run` says only what went wrong.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    apply_migrations(settings)
    run_bot(settings)
    return 0
