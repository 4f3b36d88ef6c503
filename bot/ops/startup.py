"""Start-up failures an operator can fix, each said in one sentence instead of a traceback.

`run` needs Telegram to take the token and the database to take writes. Telegram is asked first,
with a bare `getMe`, because PTB's own start-up logs its failure with a traceback before raising
it. What fails later in the start-up (the database at the first write, Telegram while setting
the menu or the webhook) comes out of PTB's run loop, and `explained` turns it into a sentence.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.config import ConfigError, Settings
from bot.db.database import sqlite_file

_SQLITE_READONLY = 8
# PostgreSQL's "read_only_sql_transaction", e.g. a hot standby or a read-only role.
_PG_READ_ONLY = "25006"


class StartupFailure(ConfigError):
    """The bot cannot start in this environment; the message says what to change."""


def token_refused() -> StartupFailure:
    return StartupFailure(
        "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN (ask @BotFather for the "
        "token of your bot, or for a new one), then start again."
    )


def telegram_unreachable(settings: Settings, error: NetworkError) -> StartupFailure:
    # The host only: the path of the URL is where the token goes.
    host = urlsplit(settings.telegram_api_base_url).netloc or settings.telegram_api_base_url
    return StartupFailure(
        f"The bot could not reach Telegram at {host} ({_first_line(error.message)}): check the "
        "network connection, a firewall or proxy, or TELEGRAM_API_BASE_URL, then start again."
    )


def cannot_write(settings: Settings, error: BaseException) -> StartupFailure:
    url = make_url(settings.database_url)
    path = sqlite_file(url)
    where = f"file {path}" if path is not None else f"on the {url.get_backend_name()} server"
    access = "the file and its folder" if path is not None else "the database"
    return StartupFailure(
        f"The bot cannot write to its database ({where}: {_first_line(_reason(error))}): give "
        f"the user the bot runs as write access to {access}, or set DATABASE_URL to a database "
        "it may write, then start again."
    )


def refuses_writes(error: BaseException) -> bool:
    """Whether a database error means "this database is read-only (to us)"."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF == _SQLITE_READONLY
    return getattr(original, "sqlstate", None) == _PG_READ_ONLY


async def check_telegram(settings: Settings) -> None:
    """Ask Telegram who the bot is: StartupFailure when it refuses the token or is unreachable."""
    bot = Bot(
        settings.require_token(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_base_url,
    )
    try:
        async with bot:  # initialize() asks getMe
            pass
    except InvalidToken:
        raise token_refused() from None
    except NetworkError as error:
        raise telegram_unreachable(settings, error) from None


@contextlib.contextmanager
def explained(settings: Settings) -> Iterator[None]:
    """Turn the start-up failures an operator can fix into StartupFailure."""
    try:
        yield
    except InvalidToken:
        raise token_refused() from None
    except NetworkError as error:
        raise telegram_unreachable(settings, error) from None
    except DBAPIError as error:
        if refuses_writes(error):
            raise cannot_write(settings, error) from None
        raise


def _reason(error: BaseException) -> str:
    original = error.orig if isinstance(error, DBAPIError) else error
    return str(original) or type(original).__name__


def _first_line(message: str) -> str:
    lines = message.strip().splitlines()
    return lines[0] if lines else "no reason given"
