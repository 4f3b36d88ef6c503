"""Language choice, numbers and dates per language (condition names: test_i18n_conditions.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.i18n import current_language, resolve_language, set_language, speaking
from bot.i18n import formatting as fmt
from bot.i18n.texts import text
from bot.views.result import percent


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ko", "ko"),
        ("ko-KR", "ko"),
        ("es", "es"),
        ("es-MX", "es"),
        ("es_419", "es"),
        ("EN-us", "en"),
        ("de", "en"),
        ("pt-BR", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_telegram_language_codes_map_to_a_supported_language(
    code: str | None, expected: str
) -> None:
    assert resolve_language(code) == expected


def test_the_language_is_per_task_and_restored_after_speaking() -> None:
    async def person(language: str) -> str:
        set_language(language)
        await asyncio.sleep(0)
        return text("button_skip")

    async def both() -> list[str]:
        return list(await asyncio.gather(person("ko"), person("es"), person("en")))

    assert asyncio.run(both()) == ["건너뛰기", "Omitir", "Skip"]
    with speaking("es-AR"):
        assert current_language() == "es"
        with speaking("ko"):
            assert text("button_skip") == "건너뛰기"
        assert text("button_skip") == "Omitir"
    assert current_language() == "en"


def test_percentages_are_written_as_each_language_does() -> None:
    assert fmt.percent(0.2728, "en") == "27%"
    assert fmt.percent(0.2728, "ko") == "27%"
    assert fmt.percent(0.2728, "es") == "27\u00a0%"  # CLDR: no-break space before the sign
    assert fmt.percent(0.004, "es") == "<1\u00a0%"
    assert fmt.percent(0.996, "en") == ">99%"
    assert fmt.percent(0.0, "en") == "0%"
    assert fmt.percent(1.0, "en") == "100%"
    with speaking("es"):
        assert percent(0.5) == "50\u00a0%"


def test_dates_and_sizes_are_written_as_each_language_does() -> None:
    when = dt.datetime(2024, 5, 1, 13, 5, tzinfo=dt.UTC)
    utc = ZoneInfo("UTC")
    assert fmt.date(when, utc, "en") == "1 May 2024"
    assert fmt.date(when, utc, "ko") == "2024. 5. 1."
    assert fmt.date(when, utc, "es") == "1 may 2024"
    assert fmt.moment(when, utc, "es") == "1 may 2024 13:05 UTC"
    # A naive time from the database is UTC.
    assert fmt.moment(when.replace(tzinfo=None), utc, "ko") == "2024. 5. 1. 13:05 UTC"


def test_dates_are_in_the_bots_time_zone_and_name_no_utc_elsewhere() -> None:
    # 20:30 UTC on 30 April is already 1 May in Seoul.
    when = dt.datetime(2024, 4, 30, 20, 30, tzinfo=dt.UTC)
    seoul = ZoneInfo("Asia/Seoul")
    assert fmt.date(when, seoul, "ko") == "2024. 5. 1."
    assert fmt.moment(when, seoul, "ko") == "2024. 5. 1. 05:30"
    assert fmt.date(when, ZoneInfo("UTC"), "en") == "30 Apr 2024"


def test_a_timezone_setting_that_names_no_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match="TIMEZONE"):
        load_settings(env_file=None, timezone="Mars/Olympus")
    assert load_settings(env_file=None, timezone="Asia/Seoul").zone == ZoneInfo("Asia/Seoul")


def test_sizes_are_written_as_each_language_does() -> None:
    assert fmt.megabytes(12_345_678, "es") == "12,3 MB"
    assert fmt.megabytes(12_345_678, "en") == "12.3 MB"
