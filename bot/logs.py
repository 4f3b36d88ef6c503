"""Logging set-up that never lets a secret through.

The bot token is part of every Telegram URL (`/bot<token>/sendMessage`) and httpx logs request
URLs at INFO, PTB at DEBUG, and exceptions quote URLs too. Redacting the final formatted text
(message, arguments and traceback alike) is the only place that catches all of them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from urllib.parse import quote

# Telegram tokens look like `123456789:AA...` (35 characters after the colon); in file download
# URLs httpx logs the colon percent-encoded.
_TOKEN_SHAPE = re.compile(r"\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
REDACTED = "<redacted>"
NOISY_AT_INFO = ("httpx", "httpcore", "apscheduler")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes known secrets and anything shaped like a bot token."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        # Each secret as written and as it appears inside a URL.
        variants = {v for s in secrets if s for v in (s, quote(s, safe=""), quote(s))}
        self._secrets = sorted(variants, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
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
