"""Numbers and dates as each language writes them (CLDR, through Babel)."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent

from bot.i18n import current_language

# English dates day first ("1 Dec 2026"), as international English and most English-speaking
# countries write them; CLDR's "en" is American ("Dec 1, 2026"). The month stays a word, so the
# date cannot be misread either way.
_DATE_LOCALES = {"en": "en_GB"}


def _locale(language: str | None) -> str:
    return language or current_language()


def _date_locale(language: str | None) -> str:
    locale = _locale(language)
    return _DATE_LOCALES.get(locale, locale)


def percent(probability: float, language: str | None = None) -> str:
    """Whole percent as a person reads it ("27%", Spanish "27 %"), never a misleading 0% or 100%.

    Spanish and other languages put a no-break space before the sign, per CLDR.
    """
    locale = _locale(language)
    value = max(0.0, min(1.0, probability))
    if 0 < value < 0.01:
        return "<" + format_percent(0.01, locale=locale)
    if 0.99 < value < 1:
        return ">" + format_percent(0.99, locale=locale)
    return format_percent(round(value, 2), locale=locale)


def megabytes(size_bytes: int, language: str | None = None) -> str:
    value = format_decimal(size_bytes / 1_000_000, format="#,##0.0", locale=_locale(language))
    return f"{value} MB"


def number(value: int | float, language: str | None = None) -> str:
    return format_decimal(value, locale=_locale(language))


def _local(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    # Stored times are UTC; SQLite gives them back without their zone.
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)


def date(value: dt.datetime, zone: dt.tzinfo, language: str | None = None) -> str:
    """The calendar date of a moment in the bot's time zone (the TIMEZONE setting), e.g.
    "1 Dec 2026", "2026. 12. 1.", "1 dic 2026"."""
    return format_date(_local(value, zone), format="medium", locale=_date_locale(language))


def moment(value: dt.datetime, zone: dt.tzinfo, language: str | None = None) -> str:
    """A date and time in the bot's time zone, e.g. "1 Dec 2026 13:05" (UTC is named, since a
    person may not expect it: "1 Dec 2026 13:05 UTC")."""
    locale = _locale(language)
    when = _local(value, zone)
    # 24-hour clock for everyone: it needs no AM/PM word and reads the same in every language.
    clock = format_time(when, format="HH:mm", tzinfo=zone, locale=locale)
    stamp = f"{format_date(when, format='medium', locale=_date_locale(language))} {clock}"
    return f"{stamp} UTC" if str(zone) == "UTC" else stamp
