from __future__ import annotations

import logging

import pytest

from bot.logs import REDACTED, RedactingFormatter

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
