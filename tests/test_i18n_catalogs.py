"""Every language has every message, with the same placeholders and markup, and can be drawn.

English is the source (bot/i18n/texts.py); Korean and Spanish are gettext catalogs. A
message added in one place and not the others, a placeholder renamed in a translation, or an
English text changed without its translations being reviewed fails here.
"""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract

from bot.card import missing_glyphs
from bot.card.fonts import Weight
from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED
from bot.i18n.catalogs import read_catalog
from bot.i18n.conditions import condition_table
from bot.i18n.extract import extract_messages, placeholders
from bot.i18n.texts import MESSAGES, PLURALS, text_in

TRANSLATED = [language for language in SUPPORTED if language != DEFAULT_LANGUAGE]
# What the card draws: its own texts, and every condition name it may show.
CARD_KEYS = tuple(k for k in MESSAGES if k.startswith("card_") and not k.startswith("card_caption"))
_TAG = re.compile(r"</?([a-z]+)[^>]*>")


def english() -> dict[str, tuple[str, ...]]:
    """message id -> English forms (one, or singular and plural)."""
    return {**{k: (v,) for k, v in MESSAGES.items()}, **PLURALS}


def entries(language: str) -> dict[str, Message]:
    catalog = read_catalog(language)
    found: dict[str, Message] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        assert message.context, f"{language}: {message.id!r} has no message id (msgctxt)"
        assert message.context not in found, f"{language}: {message.context} twice"
        found[message.context] = message
    return found


def forms(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def tags(text: str) -> Counter[str]:
    return Counter(match.group(0).split()[0].rstrip(">") for match in _TAG.finditer(text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_has_exactly_the_source_messages(language: str) -> None:
    found = entries(language)
    source = english()
    assert sorted(source.keys() - found.keys()) == [], f"{language} lacks these messages"
    assert sorted(found.keys() - source.keys()) == [], f"{language} has messages no longer used"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_is_of_the_current_english_text_and_reviewed(language: str) -> None:
    for key, message in entries(language).items():
        expected = english()[key]
        current = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        assert current == expected, f"{language}/{key}: English changed, run pybabel update"
        assert not message.fuzzy, f"{language}/{key}: fuzzy, a translator must review it"
        assert all(form.strip() for form in forms(message)), f"{language}/{key}: untranslated"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_and_markup_match_the_english(language: str) -> None:
    for key, message in entries(language).items():
        source = english()[key]
        wanted = set().union(*(placeholders(t) for t in source))
        for form in forms(message):
            assert placeholders(form) == wanted, f"{language}/{key}: {form!r}"
            assert tags(form) == tags(source[-1]), f"{language}/{key}: HTML tags differ"


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_messages_have_every_form_the_language_needs(language: str) -> None:
    catalog = read_catalog(language)
    expected = {"ko": 1, "es": 3}[language]  # CLDR: Korean has one form; Spanish one/many/other
    assert catalog.num_plurals == expected
    for key in PLURALS:
        message = entries(language)[key]
        assert message.pluralizable and len(message.string) == catalog.num_plurals, key


def test_plural_forms_are_chosen_by_the_number() -> None:
    assert "1 photo…" in text_in("en", "analysing", count=1)
    assert "2 photos…" in text_in("en", "analysing", count=2)
    assert "사진 1장" in text_in("ko", "analysing", count=1)
    assert "사진 2장" in text_in("ko", "analysing", count=2)
    assert "1 foto…" in text_in("es", "analysing", count=1)
    assert "2 fotos…" in text_in("es", "analysing", count=2)
    assert "1000000 de fotos" in text_in("es", "analysing", count=1_000_000)
    with pytest.raises(TypeError):
        text_in("es", "analysing")


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_are_used_and_values_still_escaped(language: str) -> None:
    assert text_in(language, "welcome") != MESSAGES["welcome"]
    assert "&lt;b&gt;" in text_in(language, "summary_reference", value="<b>")


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize("weight", list(Weight))
def test_everything_the_card_draws_has_glyphs_in_the_shipped_font(
    language: str, weight: Weight
) -> None:
    strings = [text_in(language, key) for key in CARD_KEYS]
    for info in condition_table().values():
        strings += [info.plain[language], info.medical[language]]
    for text in strings:
        assert missing_glyphs(text, weight) == set(), (language, text)


def test_the_template_is_up_to_date_with_the_source() -> None:
    # messages.pot is what `pybabel extract` writes from texts.py; a stale one would make
    # `pybabel update` drop or miss messages.
    from importlib import resources

    from babel.messages.pofile import read_po

    with resources.files("bot").joinpath("locale", "messages.pot").open("rb") as pot:
        template = read_po(pot)
    in_template = {m.context: m.id for m in template if m.id}
    assert {k: (v[0] if len(v) == 1 else v) for k, v in english().items()} == {
        k: (tuple(v) if not isinstance(v, str) else v) for k, v in in_template.items()
    }


def test_the_extractor_reads_every_message_of_the_source() -> None:
    from importlib import resources

    source = resources.files("bot").joinpath("i18n", "texts.py").read_bytes()
    found = list(
        extract(
            extract_messages,
            io.BytesIO(source),
            keywords={"pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)},
        )
    )
    assert {context for _, _, _, context in found} == english().keys()
