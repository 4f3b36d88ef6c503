"""`migrate`, `purge`, `export` and `erase`: the database from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TextIO, TypeVar

from bot.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError
from bot.config import Settings, load_settings
from bot.logs import configure_logging, secrets_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.db.database import Database

# SQLAlchemy is imported inside the commands so that `--help` of every command stays fast.

P = ParamSpec("P")
T = TypeVar("T")

KEY_HELP = (
    "EXPORT_HASH_KEY is not set: exports replace Telegram ids with a keyed hash, so set a secret "
    "key first (for example the output of "
    "`python -c 'import secrets; print(secrets.token_hex(32))'`) in .env, and keep it: "
    "the same key gives the same hash for the same person in every export."
)


def register(subparsers: Any) -> None:
    migrate = subparsers.add_parser(
        "migrate",
        help="create or update the database schema",
        description="Apply every pending database migration (DATABASE_URL). The run command "
        "does this at start-up too.",
    )
    migrate.set_defaults(handler=handle_migrate)

    purge = subparsers.add_parser(
        "purge",
        help="delete finished cases older than the retention period",
        description="Delete completed, failed and cancelled cases (and cases abandoned while "
        "being collected) older than RETENTION_DAYS. Consent records are kept.",
    )
    purge.add_argument(
        "--days", type=_positive_int, metavar="N", help="retention in days (default: setting)"
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.set_defaults(handler=handle_purge)

    export = subparsers.add_parser(
        "export",
        help="write all cases as CSV, without Telegram ids",
        description="Write every case as CSV for audit or research. Telegram ids are replaced "
        "by a keyed hash (EXPORT_HASH_KEY); patient references and photo ids are never included.",
    )
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="CSV file to write (default: stdout)"
    )
    export.set_defaults(handler=handle_export)

    erase = subparsers.add_parser(
        "erase",
        help="erase one person's data (e.g. a request by e-mail)",
        description="Delete a person's cases, answers, photo references and profile. Their "
        "consent records are kept, with a withdrawal appended, as the proof the law requires.",
    )
    erase.add_argument(
        "--telegram-user-id", type=_positive_int, required=True, metavar="N", dest="telegram_id"
    )
    erase.set_defaults(handler=handle_erase)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level_number, secrets=secrets_of(settings))
    if settings.log_level_number > logging.DEBUG:
        # Alembic narrates every step at INFO; the commands print their own one-line outcome.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


@contextlib.contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """A database that cannot be reached or used, said in one sentence (CommandError)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.ops.startup import cannot_write, refuses_writes

    # The URL may carry a password, so the message names the failure, never the URL.
    try:
        yield
    except SQLAlchemyError as exc:
        if refuses_writes(exc):
            raise CommandError(str(cannot_write(settings, exc)), EXIT_USAGE) from None
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        raise CommandError(f"the database failed: {reason}", EXIT_FAILED) from None
    except OSError as exc:
        raise CommandError(f"the database could not be reached: {exc.strerror}") from None


def _require_migrated(url: str) -> None:
    from bot.db.migrate import current_revision, head_revision

    if current_revision(url) != head_revision():
        raise CommandError(
            "the database schema is not up to date; run `python -m bot migrate` first.",
            EXIT_USAGE,
        )


def _in_unit(
    settings: Settings,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`work(session, *args, **kwargs)` as one unit of work on the configured database."""
    from bot.db.database import Database

    async def run() -> T:
        async with Database.from_settings(settings) as database:
            return await database.run(work, *args, **kwargs)

    return asyncio.run(run())


def _writing_once(
    write: Callable[Concatenate[Session, TextIO, P], int],
) -> Callable[Concatenate[Session, TextIO, P], int]:
    """A unit of work that writes to a file, which must not run again after a lock (as units
    of work may): what it wrote cannot be taken back, so the command fails instead."""
    runs = 0

    def once(session: Session, out: TextIO, /, *args: P.args, **kwargs: P.kwargs) -> int:
        nonlocal runs
        runs += 1
        if runs > 1:
            raise CommandError("the database was locked by another program; run it again")
        return write(session, out, *args, **kwargs)

    return once


def handle_migrate(args: argparse.Namespace) -> int:
    from bot.db.migrate import current_revision

    settings = _settings()
    with database_errors(settings):
        before = current_revision(settings.database_url)
        apply_migrations(settings)
        after = current_revision(settings.database_url)
    if before == after:
        print(f"database schema already up to date (revision {after})")
    else:
        print(f"database schema upgraded from revision {before or 'none'} to {after}")
    return EXIT_OK


def handle_purge(args: argparse.Namespace) -> int:
    from bot.db.retention import purge_expired_cases

    settings = _settings()
    days = args.days or settings.retention_days
    with database_errors(settings):
        _require_migrated(settings.database_url)
        count = _in_unit(
            settings,
            purge_expired_cases,
            days,
            dry_run=args.dry_run,
            clinic_chat_id=settings.triage_chat_id,
        )
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {count} case(s) finished or abandoned more than {days} day(s) ago")
    if not args.dry_run:
        _clear_clinic_copies(settings)
    return EXIT_OK


def handle_export(args: argparse.Namespace) -> int:
    from bot.db.export import operator_export_csv

    settings = _settings()
    key = settings.export_hash_key.get_secret_value() if settings.export_hash_key else ""
    if not key:
        raise CommandError(KEY_HELP, EXIT_USAGE)
    output: Path | None = args.output
    with database_errors(settings):
        _require_migrated(settings.database_url)
        if output is None:
            rows = _export(settings, sys.stdout, key, operator_export_csv)
        else:
            # Written next to the target and renamed, so a failed export leaves no half file.
            partial = output.with_name(output.name + ".partial")
            try:
                with partial.open("w", newline="", encoding="utf-8") as out:
                    rows = _export(settings, out, key, operator_export_csv)
                os.replace(partial, output)
            finally:
                partial.unlink(missing_ok=True)
    print(f"exported {rows} case(s) to {output or 'stdout'}", file=sys.stderr)
    return EXIT_OK


def _export(
    settings: Settings,
    out: TextIO,
    key: str,
    export: Callable[[Session, TextIO, bytes], int],
) -> int:
    return _in_unit(settings, _writing_once(export), out, key.encode("utf-8"))


def handle_erase(args: argparse.Namespace) -> int:
    from bot.db.erasure import erase_user

    settings = _settings()
    with database_errors(settings):
        _require_migrated(settings.database_url)
        erasure = _in_unit(
            settings,
            erase_user,
            args.telegram_id,
            chat_type="operator",
            clinic_chat_id=settings.triage_chat_id,
        )
    print(
        f"Telegram user {args.telegram_id}: deleted {erasure.cases_deleted} case(s)"
        + (" and the profile" if erasure.profile_deleted else "; no profile was stored")
        + "; consent records kept"
        + ("; withdrawal recorded" if erasure.withdrawal is not None else "")
        + "."
    )
    _clear_clinic_copies(settings)
    return EXIT_OK


def _clear_clinic_copies(settings: Settings) -> None:
    """Delete the copies in the clinic's group of the cases just purged or erased (and any left
    from before), when a bot token is configured; else the running bot does it."""
    from bot.db import clinic_copies
    from bot.db.database import Database

    async def run() -> str | None:
        async with Database.from_settings(settings) as database:
            waiting = await database.run(clinic_copies.pending)
            if waiting == 0:
                return None
            if settings.telegram_bot_token is None:
                return (
                    f"{waiting} case(s) still have messages in the clinic's group: the bot "
                    "deletes them when it runs (or set TELEGRAM_BOT_TOKEN for this command)"
                )
            return await _clear_with_bot(settings, database)

    with database_errors(settings):
        outcome = asyncio.run(run())
    if outcome is not None:
        print(outcome)


async def _clear_with_bot(settings: Settings, database: Database) -> str:
    from telegram.error import InvalidToken, TelegramError
    from telegram.ext import AIORateLimiter, ExtBot

    from bot.services.clinic_copies import clear_clinic_copies

    bot: ExtBot[int] = ExtBot(
        settings.require_token(),
        base_url=settings.telegram_api_base_url,
        rate_limiter=AIORateLimiter(max_retries=3),
    )
    try:
        async with bot:
            cleared = await clear_clinic_copies(bot, database)
    except InvalidToken:  # its message quotes the token
        return "Telegram refused TELEGRAM_BOT_TOKEN; the bot deletes the clinic's copies itself"
    except TelegramError as exc:
        return (
            f"the clinic's group could not be reached ({exc}); the bot deletes its copies "
            "when it runs"
        )
    return (
        f"clinic's group: deleted {cleared.deleted} message(s); {cleared.stayed} could not be "
        f"deleted (the clinic was asked to); {cleared.waiting} case(s) to try again later"
    )


def apply_migrations(settings: Settings) -> None:
    """Bring the schema up to date (the run command calls this before starting the bot)."""
    from bot.db.migrate import MigrationsNotFound, upgrade_to_head

    with database_errors(settings):
        try:
            upgrade_to_head(settings.database_url)
        except MigrationsNotFound as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
