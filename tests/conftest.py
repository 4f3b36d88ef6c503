"""Shared test set-up: no test reads the developer's own .env or environment settings."""

from __future__ import annotations

import os

import pytest

from bot.config import Settings

pytest_plugins = ["tests.fakes.modelderm_fixtures", "tests.fakes.telegram_fixtures"]


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    # A working directory without a .env, so load_settings() sees only what a test sets.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
