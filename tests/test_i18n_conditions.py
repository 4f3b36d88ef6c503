"""Condition names: every name the API answers has plain and medical names in every language,
and links only to checked articles in the reader's own language."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.domain.advice import MALIGNANT_OR_PREMALIGNANT
from bot.i18n import SUPPORTED
from bot.i18n.conditions import (
    ARTICLE_HOSTS,
    ConditionDataError,
    condition_table,
    display_name,
    info_url,
    medical_name,
    parse_table,
    plain_name,
    translated_name,
)
from bot.i18n.limits import LABEL_MAX_CHARS
from tests.fakes.modelderm_server import DEFAULT_CONDITIONS

SAMPLE_NAMES = tuple(
    line.strip()
    for line in (Path(__file__).parent / "sample_answer_conditions.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
)
# The model's own misspellings: shown corrected, still matched as the API spells them.
MISSPELT = {"Inflammed cyst": "Inflamed cyst", "Portwine stain": "Port-wine stain"}


def raw_file() -> dict[str, Any]:
    text = resources.files("bot.i18n").joinpath("conditions.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_the_file_says_where_its_list_and_its_links_come_from() -> None:
    source = raw_file()["source"]
    assert {"api", "answers", "earlier_table", "names", "links"} <= set(source)
    assert {info.source for info in condition_table().values()} <= {"answers", "earlier_table"}


def test_every_name_in_the_real_answers_has_an_entry_marked_as_seen() -> None:
    assert len(SAMPLE_NAMES) == 31
    for name in (*SAMPLE_NAMES, *(name for name, _ in DEFAULT_CONDITIONS)):
        assert plain_name(name, "en") is not None, name
    seen = {info.api_name for info in condition_table().values() if info.source == "answers"}
    assert seen == set(SAMPLE_NAMES)


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_condition_has_a_plain_and_a_medical_name_in_every_language(language: str) -> None:
    assert len(condition_table()) >= 68
    for info in condition_table().values():
        for names in (info.plain, info.medical):
            assert names[language].strip() == names[language] != "", (info.api_name, language)
            # Shown as "plain (medical)": a name in brackets of its own would nest them.
            assert not set("()") & set(names[language]), (info.api_name, names[language])
        if language != "en":
            # A translation, not the English name left in place (Latin names aside).
            assert info.plain[language] != info.api_name or info.api_name in {
                "Psoriasis",
                "Vitiligo",
            }, (info.api_name, language)


def test_no_known_name_is_ever_cut_short_on_screen() -> None:
    for info in condition_table().values():
        for names in (info.plain, info.medical):
            for name in names.values():
                assert len(name) < LABEL_MAX_CHARS, name


def test_links_are_checked_https_articles_on_an_allowed_host_never_a_search() -> None:
    links = 0
    for info in condition_table().values():
        for language, article in info.articles.items():
            links += 1
            parts = urlsplit(article.url)
            assert parts.scheme == "https", article.url
            assert not parts.query and "search" not in article.url, article.url
            assert any(
                parts.netloc == host and parts.path.startswith(prefix)
                for host, prefix in ARTICLE_HOSTS[language]
            ), (info.api_name, language, article.url)
            assert article.checked.startswith("20"), (info.api_name, article.checked)
    assert links >= 1
    assert "vsearch" not in json.dumps(raw_file())


def test_names_are_matched_whatever_the_case_or_spacing() -> None:
    assert plain_name("Melanocytic nevus", "en") == "Mole"
    assert plain_name("  melanocytic   NEVUS ", "en") == "Mole"
    assert medical_name("MELANOCYTIC nevus", "en") == "melanocytic nevus"
    assert plain_name("insect  BITE", "ko") == "벌레 물림"
    assert plain_name("Xerotic eczema", "en") == "Dry-skin eczema"
    assert medical_name("Xerotic eczema", "es") == "eccema xerótico"
    assert plain_name("Cherry Hemangioma", "en") == "Cherry angioma"


def test_the_models_misspellings_are_corrected_in_every_name_shown() -> None:
    for api_name, corrected in MISSPELT.items():
        assert plain_name(api_name, "en") == corrected
        assert plain_name(api_name.upper(), "en") == corrected
    shown = [
        name
        for info in condition_table().values()
        for names in (info.plain, info.medical)
        for name in names.values()
    ]
    assert not [name for name in shown if "inflammed" in name.casefold()]
    assert not [name for name in shown if "portwine" in name.casefold()]


def test_a_medical_name_is_given_only_when_it_says_more_than_the_plain_one() -> None:
    assert medical_name("Herpes zoster", "en") == "herpes zoster"
    assert plain_name("Herpes zoster", "ko") == "대상포진"
    assert medical_name("Herpes zoster", "ko") is None
    assert medical_name("Psoriasis", "es") is None
    assert medical_name("Some new condition", "en") is None
    for info in condition_table().values():
        for language in SUPPORTED:
            medical = medical_name(info.api_name, language)
            assert medical is None or medical.casefold() != info.plain[language].casefold()


def test_a_link_is_only_in_the_readers_own_language() -> None:
    spanish = info_url("Melanocytic nevus", "es")
    assert spanish is not None and urlsplit(spanish).path.startswith("/spanish/")
    # No checked English or Korean article: no link, and never the Spanish one instead.
    assert info_url("Melanocytic nevus", "en") is None
    assert info_url("Melanocytic nevus", "ko") is None
    english = info_url("Herpes zoster", "en")
    assert english is not None and info_url("Herpes zoster", "ko") is None
    for info in condition_table().values():
        for language in SUPPORTED:
            url = info_url(info.api_name, language)
            assert url is None or url == info.articles[language].url


def test_unknown_names_fall_back_to_the_api_name_without_a_link() -> None:
    assert plain_name("Some new condition", "ko") is None
    assert translated_name("Some new condition", "ko") is None
    assert display_name("Some new condition", "ko") == "Some new condition"
    assert info_url("Some new condition", "es") is None
    assert display_name("Insect bite", "es") == "Picadura de insecto"
    # A language the bot does not speak reads the English names.
    assert plain_name("Melanocytic nevus", "fr") == "Mole"


def test_every_malignant_pattern_of_the_advice_names_a_known_condition() -> None:
    # The conditions that make the bot say "see a doctor soon" must read well in every language.
    api_names = [info.api_name.casefold() for info in condition_table().values()]
    for pattern in ("melanoma", "carcinoma", "bowen", "keratoacanthoma", "actinic keratosis"):
        assert pattern in MALIGNANT_OR_PREMALIGNANT
        assert any(pattern in name for name in api_names), pattern


def _one_condition(**links: dict[str, str]) -> dict[str, Any]:
    names = {language: {"plain": "Mole", "medical": "melanocytic nevus"} for language in SUPPORTED}
    entry: dict[str, Any] = {"source": "answers", **names, "links": links}
    return {"conditions": {"Melanocytic nevus": entry}}


@pytest.mark.parametrize(
    ("language", "url"),
    [
        ("en", "https://vsearch.nlm.nih.gov/vivisimo/cgi-bin/query-meta?query=mole"),
        ("en", "https://medlineplus.gov/search/?query=mole"),
        ("en", "http://medlineplus.gov/moles.html"),
        ("en", "https://medlineplus.gov/spanish/moles.html"),
        ("en", "https://www.nhs.uk/"),
        ("ko", "https://medlineplus.gov/moles.html"),
        ("es", "https://medlineplus.gov/moles.html"),
        ("es", "https://example.org/lunares"),
    ],
)
def test_the_file_is_refused_with_a_link_that_is_not_an_allowed_article(
    language: str, url: str
) -> None:
    raw = _one_condition(**{language: {"url": url, "checked": "2026-12-01 by hand"}})
    with pytest.raises(ConditionDataError):
        parse_table(raw)


def test_the_file_is_refused_with_a_missing_name_or_an_unchecked_link() -> None:
    fine = _one_condition(es={"url": "https://medlineplus.gov/spanish/moles.html", "checked": "x"})
    assert parse_table(fine)["melanocytic nevus"].articles["es"].checked == "x"
    unchecked = copy.deepcopy(fine)
    unchecked["conditions"]["Melanocytic nevus"]["links"]["es"]["checked"] = " "
    with pytest.raises(ConditionDataError):
        parse_table(unchecked)
    no_korean = copy.deepcopy(fine)
    del no_korean["conditions"]["Melanocytic nevus"]["ko"]["medical"]
    with pytest.raises(ConditionDataError):
        parse_table(no_korean)
    twice = copy.deepcopy(fine)
    twice["conditions"]["melanocytic  Nevus"] = twice["conditions"]["Melanocytic nevus"]
    with pytest.raises(ConditionDataError):
        parse_table(twice)
