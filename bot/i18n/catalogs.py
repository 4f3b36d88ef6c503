"""The translations of the bot's messages: gettext catalogs (.po) read with Babel.

English is the source language: the texts live in `bot.i18n.texts` (MESSAGES, PLURALS),
each with its message id as gettext context (msgctxt) and its English text as msgid. Every other
language has `bot/locale/<lang>/LC_MESSAGES/messages.po`, maintained with the standard
`pybabel extract / update` (see docs/languages.md).

The .po files are read directly at first use instead of compiled .mo files: the .po is the one
file translators and reviewers edit, nothing binary can go stale next to it, and a fresh clone
or an installed wheel needs no build step. Reading both catalogs takes a few milliseconds.
Fuzzy entries (a translation whose English source changed) are not used: the English text is
shown until a translator confirms the translation, and the catalog test fails meanwhile.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED

DOMAIN = "messages"


def catalog_path(language: str) -> resources.abc.Traversable:
    return resources.files("bot").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")


@cache
def read_catalog(language: str) -> Catalog:
    """The parsed .po catalog of `language` (not English: English is the source)."""
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> NullTranslations:
    """gettext translations for `language`; English (and unknown codes) translate to the source."""
    if language == DEFAULT_LANGUAGE or language not in SUPPORTED:
        return NullTranslations()
    mo = io.BytesIO()
    write_mo(mo, read_catalog(language), use_fuzzy=False)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)
