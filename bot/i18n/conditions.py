"""Condition names in the person's language, and a plain-language page about each.

The API names conditions in English, its own way ("Inflammed cyst"). bot/i18n/conditions.json
maps each name it has been seen to answer (matched without regard to case or spacing) to a
Korean and a Spanish name and to MedlinePlus pages (US National Library of Medicine: plain
language, English and Spanish). A name not in the table is shown as the API spelt it, unlinked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bot.i18n import DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class ConditionInfo:
    """One condition: its name per language ("en" as the API spells it) and pages about it."""

    names: dict[str, str]
    # language -> URL; languages without a page of their own get the English one.
    urls: dict[str, str]


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


@cache
def condition_table() -> dict[str, ConditionInfo]:
    """The data file, keyed by the normalised English name."""
    raw = json.loads(
        resources.files("bot.i18n").joinpath("conditions.json").read_text(encoding="utf-8")
    )
    table: dict[str, ConditionInfo] = {}
    for english, entry in raw.items():
        names = {DEFAULT_LANGUAGE: english, "ko": entry["ko"], "es": entry["es"]}
        urls = {DEFAULT_LANGUAGE: entry["url"], "es": entry["url_es"]}
        table[_key(english)] = ConditionInfo(
            names, {language: url for language, url in urls.items() if url}
        )
    return table


def display_name(name: str, language: str) -> str:
    """The condition's name for a person reading `language`; the API's name if unknown."""
    return translated_name(name, language) or name


def translated_name(name: str, language: str) -> str | None:
    """The condition's name for a person reading `language`; None if the table lacks it."""
    info = condition_table().get(_key(name))
    if info is None:
        return None
    return info.names.get(language, name)


def plain_name(name: str, language: str) -> str | None:
    """The name a person without medical training knows the condition by, in `language`
    ("Mole"); None if the table lacks the condition."""
    return translated_name(name, language)


def medical_name(name: str, language: str) -> str | None:
    """The condition's medical name in `language` ("melanocytic nevus"), its spelling
    corrected; None when the table lacks it or it is the same as the plain name."""
    del name, language
    return None


def info_url(name: str, language: str) -> str | None:
    """A plain-language page about the condition, in `language` where one exists."""
    info = condition_table().get(_key(name))
    if info is None:
        return None
    return info.urls.get(language) or info.urls.get(DEFAULT_LANGUAGE)
