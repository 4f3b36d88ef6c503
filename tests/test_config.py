from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DATABASE_URL,
    PUBLIC_MODELDERM_KEY,
    PUBLIC_MODELDERM_URL,
    ConfigError,
    load_settings,
)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.modelderm_api_urls == [PUBLIC_MODELDERM_URL]
    assert settings.modelderm_api_key.get_secret_value() == PUBLIC_MODELDERM_KEY
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.sqlite_path() == Path("data/modelderm-bot.sqlite3")
    assert settings.telegram_bot_token is None


def test_results_can_be_forwarded_and_clinic_posts_cannot_unless_set_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(env_file=None)
    assert settings.protect_results is False
    assert settings.protect_clinic_posts is True
    monkeypatch.setenv("PROTECT_RESULTS", "true")
    monkeypatch.setenv("PROTECT_CLINIC_POSTS", "false")
    settings = load_settings(env_file=None)
    assert settings.protect_results is True
    assert settings.protect_clinic_posts is False


def test_missing_token_names_the_setting_and_how_to_get_one() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings().require_token()
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value)
    assert "@BotFather" in str(caught.value)


def test_api_urls_are_an_ordered_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDERM_API_URLS", "http://b.example/api/, http://a.example/api")
    assert load_settings().modelderm_api_urls == ["http://b.example/api", "http://a.example/api"]


def test_dot_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=123:abc\nLOG_LEVEL=debug\n", encoding="utf-8")
    settings = load_settings(env_file=env)
    assert settings.require_token() == "123:abc"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("MODELDERM_API_URLS", "ftp://x", "MODELDERM_API_URLS"),
        ("MODELDERM_API_URLS", " , ", "MODELDERM_API_URLS"),
        ("MODELDERM_MAX_ATTEMPTS", "0", "MODELDERM_MAX_ATTEMPTS"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("PHOTO_FORMAT", "gif", "PHOTO_FORMAT"),
    ],
)
def test_bad_setting_is_one_sentence_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    text = str(caught.value)
    assert named in text
    assert "\n" not in text


def test_env_example_loads_as_is_and_matches_every_setting(tmp_path: Path) -> None:
    from bot.config import Settings

    example = Path(__file__).resolve().parents[1] / ".env.example"
    names = {
        line.split("=", 1)[0].strip().lower()
        for line in example.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert names == set(Settings.model_fields), names ^ set(Settings.model_fields)
    settings = load_settings(env_file=example)
    assert settings.telegram_bot_token is None
    assert settings.advice_rules_file is None
    assert settings == load_settings(env_file=None)
