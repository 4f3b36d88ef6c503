"""Shared test set-up: no test reads the developer's own .env or environment settings."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.logs import NOISY_AT_INFO

pytest_plugins = ["tests.fakes.plugin"]


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    # A working directory without a .env, so load_settings() sees only what a test sets.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    # No test makes a TLS connection (the fakes are plain HTTP on loopback), yet every HTTP
    # client the bot makes loads the whole CA bundle, about 40 ms each, three per bot start.
    # An empty CA directory is looked up only when a certificate is checked: never, here.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path_factory.mktemp("no-ca")))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging() changes process-wide logging; undo it so tests stay independent."""
    root = logging.getLogger()
    quiet = [logging.getLogger(name) for name in NOISY_AT_INFO]
    handlers, level, levels = root.handlers[:], root.level, [q.level for q in quiet]
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for logger, saved in zip(quiet, levels, strict=True):
        logger.setLevel(saved)
