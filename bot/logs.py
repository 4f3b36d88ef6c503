"""Logging set-up that lets no secret and nothing a person sent through, at any level.

Secrets: the bot token is part of every Telegram URL (`/bot<token>/sendMessage`), and httpx logs
request URLs at INFO, PTB at DEBUG, and exceptions quote URLs too; PTB also logs every call's
parameters at DEBUG, the webhook secret among them. Redacting the final formatted text (message,
arguments and traceback alike) is the only place that catches all of them.

Personal data: at DEBUG, PTB logs every update it processes (names, usernames, ids, the words
typed) and every Bot API call's parameters and results (the texts the bot sends), httpcore the
requests. Those libraries' DEBUG records keep their message template, which says what happened
(`Calling Bot API endpoint `%s` with parameters `%s``), and lose their arguments, which are the
payload. The bot's own records never carry such data: they name a case by its public id.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from urllib.parse import quote

from sqlalchemy.engine import make_url

from bot.config import PUBLIC_MODELDERM_KEY, Settings

# Telegram tokens look like `123456789:AA...` (35 characters after the colon); in file download
# URLs httpx logs the colon percent-encoded.
_TOKEN_SHAPE = re.compile(r"\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
REDACTED = "<redacted>"
NOISY_AT_INFO = ("httpx", "httpcore", "apscheduler")
# Loggers of the bot itself (bot/...): the only ones whose DEBUG records keep their arguments.
OWN_LOGGER = "bot"


def secrets_of(settings: Settings) -> list[str]:
    """Every secret in the settings: the token, the webhook secret, the API key (unless it is
    the documented public one, which is no secret, and redacting that word would garble logs),
    the export hash key and the database password."""
    found = [
        settings.telegram_bot_token,
        settings.webhook_secret,
        settings.export_hash_key,
        settings.modelderm_api_key,
    ]
    values = [secret.get_secret_value() for secret in found if secret is not None]
    values = [value for value in values if value and value != PUBLIC_MODELDERM_KEY]
    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return values


def _is_own(name: str) -> bool:
    return name == OWN_LOGGER or name.startswith(OWN_LOGGER + ".")


def _without_payload(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of a library's record with its template only: no arguments, no objects."""
    bare = logging.makeLogRecord(record.__dict__)
    if not isinstance(bare.msg, str):
        bare.msg = f"<{type(bare.msg).__name__}>"
    elif bare.args:
        bare.msg = bare.msg.replace("%%", "%")
    bare.args = None
    return bare


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes known secrets and anything shaped like a bot token.

    Libraries' DEBUG records are formatted without their arguments (see the module's doc).
    """

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        # Each secret as written and as it appears inside a URL.
        variants = {v for s in secrets if s for v in (s, quote(s, safe=""), quote(s))}
        self._secrets = sorted(variants, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno <= logging.DEBUG and not _is_own(record.name):
            record = _without_payload(record)
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)


def configure_logging(level: int, secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr through the redacting formatter; idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs one INFO line per request (each a Telegram URL with the token, every
    # long-poll), the scheduler one per run of the retry job; above DEBUG that is noise.
    if level > logging.DEBUG:
        for noisy in NOISY_AT_INFO:
            logging.getLogger(noisy).setLevel(logging.WARNING)
