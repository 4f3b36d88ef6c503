"""The command line: `modelderm-bot COMMAND` or `python -m bot COMMAND`.

Each command lives in its own module with a `register(subparsers)` function that adds its parser
and sets `handler`, a function of the parsed arguments returning the exit status.
Exit statuses: 0 success, 1 the API (or another outside service) failed, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from bot import __version__
from bot.config import ConfigError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# Order is the order shown in `--help`.
COMMAND_MODULES = ("bot.cli.run", "bot.cli.api", "bot.cli.db", "bot.cli.triage", "bot.cli.advice")


class CommandError(Exception):
    """Ends a command with a one-line reason and an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelderm-bot",
        description="Telegram bot for AI-assisted skin checks (Model Dermatology API). "
        "Not a medical device: not certified by the FDA or CE.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except ConfigError as exc:
        print(f"modelderm-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"modelderm-bot: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    return status
