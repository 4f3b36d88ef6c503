"""Start-up checks of the operation settings that pydantic cannot express field by field."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.config import ConfigError, Settings

# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token.
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MIN_SECRET_LENGTH = 16


def webhook_path(settings: Settings) -> str:
    """The local path the webhook listens on: WEBHOOK_PATH, else the path of WEBHOOK_URL."""
    path = settings.webhook_path or urlsplit(settings.webhook_url or "").path or "/telegram"
    return "/" + path.strip("/")


def check_operation(settings: Settings) -> None:
    """Raise ConfigError (one sentence) when webhook mode lacks what it needs."""
    if settings.telegram_mode != "webhook":
        return
    url = settings.webhook_url or ""
    if not url.startswith("https://"):
        raise ConfigError(
            "TELEGRAM_MODE=webhook needs WEBHOOK_URL, the public https:// address Telegram "
            "will call (see README, Running it for real)."
        )
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        raise ConfigError(
            "TELEGRAM_MODE=webhook needs WEBHOOK_SECRET, a random string of letters, digits, "
            "_ and - (for example: openssl rand -hex 32)."
        )
    if not _SECRET_SHAPE.match(secret) or len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"WEBHOOK_SECRET must be {MIN_SECRET_LENGTH} to 256 letters, digits, _ or - "
            "(for example: openssl rand -hex 32)."
        )
    if webhook_path(settings) in ("/healthz", "/metrics"):
        raise ConfigError("WEBHOOK_PATH must not be /healthz or /metrics.")
