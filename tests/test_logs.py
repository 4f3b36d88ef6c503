from __future__ import annotations

import logging

import pytest

from bot.config import Settings
from bot.logs import REDACTED, RedactingFormatter, secrets_of

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    "message",
    [
        f"POST https://api.telegram.org/bot{TOKEN}/sendMessage",
        "GET https://api.telegram.org/file/bot123456789%3AAAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/x.jpg",
        f"error: {TOKEN}",
    ],
)
def test_the_token_is_redacted_in_every_form(message: str) -> None:
    formatter = RedactingFormatter("%(message)s", secrets=[TOKEN])
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, message, None, None)
    out = formatter.format(record)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in out
    assert REDACTED in out


def test_tokens_it_was_not_told_about_are_redacted_by_shape() -> None:
    formatter = RedactingFormatter("%(message)s")
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "url %s", (f"bot{TOKEN}/getMe",), None
    )
    assert formatter.format(record) == f"url bot{REDACTED}/getMe"


def test_other_secrets_and_tracebacks_are_redacted() -> None:
    formatter = RedactingFormatter("%(message)s", secrets=["s3cret-key"])
    try:
        raise RuntimeError("key=s3cret-key")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    out = formatter.format(record)
    assert "s3cret-key" not in out and "Traceback" in out


def _formatted(name: str, level: int, message: str, *args: object) -> str:
    formatter = RedactingFormatter("%(levelname)s %(name)s: %(message)s")
    return formatter.format(logging.LogRecord(name, level, __file__, 1, message, args, None))


def test_libraries_debug_records_keep_their_template_and_lose_their_payload() -> None:
    update = {"message": {"from": {"first_name": "Alice", "id": 7001}, "text": "my left knee"}}
    out = _formatted(
        "telegram.ext.Application", logging.DEBUG, "Processing update %s (%d%%)", update, 5
    )
    assert out == "DEBUG telegram.ext.Application: Processing update %s (%d%)"
    calling = _formatted(
        "telegram.ext.ExtBot",
        logging.DEBUG,
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "sendMessage",
        {"chat_id": 7001, "text": "Photo 1 of 5 received"},
    )
    assert "7001" not in calling and "Photo 1" not in calling and "endpoint `%s`" in calling
    # A record whose message is an object, not a template, names only its type.
    formatter = RedactingFormatter("%(message)s")
    record = logging.LogRecord("httpcore", logging.DEBUG, __file__, 1, update, None, None)
    assert formatter.format(record) == "<dict>"


def test_the_bots_own_records_and_libraries_warnings_keep_their_arguments() -> None:
    own = _formatted("bot.views.result_card", logging.DEBUG, "result card of case %s", "ab12")
    assert own.endswith("result card of case ab12")
    warning = _formatted("httpx", logging.INFO, "HTTP Request: %s %s", "POST", "http://x/getMe")
    assert warning.endswith("HTTP Request: POST http://x/getMe")


def test_every_secret_of_the_settings_is_redacted() -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        webhook_secret="hook-secret-0123456789",
        export_hash_key="export-key-abc",
        modelderm_api_key="api-key-xyz",
        database_url="postgresql+asyncpg://bot:db-pass-123@127.0.0.1/bot",
    )
    secrets = secrets_of(settings)
    assert set(secrets) == {
        TOKEN,
        "hook-secret-0123456789",
        "export-key-abc",
        "api-key-xyz",
        "db-pass-123",
    }
    formatter = RedactingFormatter("%(message)s", secrets)
    for secret in secrets:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "got %s", (secret,), None)
        assert secret not in formatter.format(record)
    # The documented public API key is no secret: redacting the word "test" would garble logs.
    assert secrets_of(Settings(_env_file=None)) == []
