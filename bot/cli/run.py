"""`run`: start the bot (applies pending database migrations once it leads)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from bot.cli import EXIT_FAILED, CommandError
from bot.config import load_settings
from bot.logs import configure_logging, secrets_of


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="start the bot",
        description="Start the Telegram bot with the settings from the environment and .env.",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require_token()
    configure_logging(settings.log_level_number, secrets=secrets_of(settings))
    # Imported here so that `--help` and configuration errors stay fast and import nothing heavy.
    from bot.app import run_bot
    from bot.cli.db import apply_migrations, database_errors
    from bot.db.one_process import AnotherProcessRuns, hold_sqlite_database

    try:
        # Held until the process ends, before anything touches the database.
        hold_sqlite_database(settings.database_url)
    except AnotherProcessRuns as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None

    if settings.log_level_number > logging.DEBUG:
        # Alembic narrates every migration step at INFO; `run` says only what went wrong.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # Migrated only once this process leads (at once on SQLite; on PostgreSQL, after standing
    # by while another process leads): never under a running leader.
    with database_errors(settings):
        return run_bot(settings, migrate=lambda: apply_migrations(settings))
