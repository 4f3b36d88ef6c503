"""Condition names in the person's language, and an article about each where one was checked.

The API names conditions in English, its own way ("Inflammed cyst", "Cherry Hemangioma").
bot/i18n/conditions.json lists every name it is known to answer, keyed by the API's spelling and
matched without regard to case or spacing, and says where each name came from: seen in real API
answers, or carried over from an earlier table and not yet confirmed (the author has published
no list of the model's 184 names). For each condition and each language (English, Korean,
Spanish) it holds the name a person without medical training uses ("Mole") and the medical name
("melanocytic nevus"), the model's misspellings corrected; and an article link only where the
exact URL was found in a stored copy of the page, with a note saying how. Links are on the hosts
of ARTICLE_HOSTS only, never a search-results page, and only in the reader's own language: a
Korean reader is never sent to an English page. A name not in the file is shown as the API spelt
it, unlinked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED

# Where an article may be linked from, per reader's language, as (host, path prefix): MedlinePlus
# (US National Library of Medicine) or the NHS for English, MedlinePlus en español for Spanish,
# the Korea Disease Control and Prevention Agency's health portal for Korean.
ARTICLE_HOSTS: MappingProxyType[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "en": (("medlineplus.gov", "/"), ("www.nhs.uk", "/conditions/")),
        "es": (("medlineplus.gov", "/spanish/"),),
        "ko": (("health.kdca.go.kr", "/"),),
    }
)
# Paths of search pages on those hosts: a link must name one article, not a search.
_SEARCH_MARKERS = ("search", "query")


@dataclass(frozen=True, slots=True)
class Article:
    """A page about the condition and how a maintainer checked that it is that page."""

    url: str
    checked: str


@dataclass(frozen=True, slots=True)
class ConditionInfo:
    """One condition of the data file; `api_name` is spelt as the API spells it."""

    api_name: str
    # "answers" (seen in real API answers) or "earlier_table" (not yet confirmed).
    source: str
    plain: MappingProxyType[str, str]
    medical: MappingProxyType[str, str]
    articles: MappingProxyType[str, Article]


class ConditionDataError(ValueError):
    """bot/i18n/conditions.json breaks a rule this module promises its callers."""


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def article_allowed(url: str, language: str) -> bool:
    """Whether `url` is an https article page on a host allowed for readers of `language`."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.query or parts.fragment:
        return False
    path = parts.path.casefold()
    if any(marker in path for marker in _SEARCH_MARKERS):
        return False
    # medlineplus.gov/spanish/ is for Spanish readers, not English ones.
    claimed_by_others = (
        prefix
        for other, hosts in ARTICLE_HOSTS.items()
        if other != language
        for host, prefix in hosts
        if host == parts.netloc and prefix != "/"
    )
    if any(parts.path.startswith(prefix) for prefix in claimed_by_others):
        return False
    return any(
        parts.netloc == host and parts.path.startswith(prefix) and parts.path != prefix
        for host, prefix in ARTICLE_HOSTS.get(language, ())
    )


def _names(api_name: str, entry: dict[str, Any], kind: str) -> MappingProxyType[str, str]:
    names: dict[str, str] = {}
    for language in SUPPORTED:
        value = entry.get(language, {}).get(kind)
        if not isinstance(value, str) or not value.strip():
            raise ConditionDataError(f"{api_name!r} has no {kind} name in {language!r}")
        names[language] = value
    return MappingProxyType(names)


def _articles(api_name: str, links: dict[str, Any]) -> MappingProxyType[str, Article]:
    articles: dict[str, Article] = {}
    for language, link in links.items():
        url, checked = link.get("url", ""), link.get("checked", "")
        if not article_allowed(url, language):
            raise ConditionDataError(f"{api_name!r}: {url!r} is not allowed for {language!r}")
        if not checked.strip():
            raise ConditionDataError(f"{api_name!r}: the {language!r} link says no check")
        articles[language] = Article(url, checked)
    return MappingProxyType(articles)


@cache
def condition_table() -> MappingProxyType[str, ConditionInfo]:
    """The data file, keyed by the normalised API name."""
    return parse_table(
        json.loads(
            resources.files("bot.i18n").joinpath("conditions.json").read_text(encoding="utf-8")
        )
    )


def parse_table(raw: dict[str, Any]) -> MappingProxyType[str, ConditionInfo]:
    """The conditions of a data file as read from JSON; refuses one that breaks the rules."""
    table: dict[str, ConditionInfo] = {}
    for api_name, entry in raw["conditions"].items():
        key = _key(api_name)
        if key in table:
            raise ConditionDataError(f"{api_name!r} is in the file twice")
        table[key] = ConditionInfo(
            api_name=api_name,
            source=entry["source"],
            plain=_names(api_name, entry, "plain"),
            medical=_names(api_name, entry, "medical"),
            articles=_articles(api_name, entry.get("links", {})),
        )
    return MappingProxyType(table)


def _lookup(name: str) -> ConditionInfo | None:
    return condition_table().get(_key(name))


def _language(language: str) -> str:
    return language if language in SUPPORTED else DEFAULT_LANGUAGE


def plain_name(name: str, language: str) -> str | None:
    """The name a person without medical training knows the condition by, in `language`
    ("Mole"); None if the table lacks the condition."""
    info = _lookup(name)
    return None if info is None else info.plain[_language(language)]


def medical_name(name: str, language: str) -> str | None:
    """The condition's medical name in `language` ("melanocytic nevus"), its spelling
    corrected; None when the table lacks it or the plain name already says it ("Melanoma skin
    cancer" needs no "(melanoma)")."""
    info = _lookup(name)
    if info is None:
        return None
    language = _language(language)
    medical = info.medical[language]
    return None if _key(medical) in _key(info.plain[language]) else medical


def info_url(name: str, language: str) -> str | None:
    """A checked article about the condition in `language`; None if there is none in that
    language (never a page in another language)."""
    info = _lookup(name)
    if info is None:
        return None
    article = info.articles.get(language)
    return None if article is None else article.url


def translated_name(name: str, language: str) -> str | None:
    """The condition's plain name for a person reading `language`; None if the table lacks
    it (the result text then shows the API's own label, marked as such)."""
    return plain_name(name, language)


def display_name(name: str, language: str) -> str:
    """The condition's plain name for a person reading `language`; the API's name if unknown."""
    return plain_name(name, language) or name
