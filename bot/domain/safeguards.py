"""Intimate photos: a child's never leave the bot; an adult's only after an explicit yes.

The Model Dermatology service keeps every photo it receives to train its algorithm, and with
triage on the clinic's clinicians see the photos in a Telegram group. For photos of a genital or
anal area of someone who may be under 18, neither is acceptable whatever anyone agreed to: the
bot sends them nowhere and asks for an examination in person. For anyone else such photos go
only after the sender confirms, once, where they go.

The rule is pure (the questionnaire and today's date in, a verdict out) so that every place that
lets photos leave can apply it again: the summary's Send, the claim before each upload to the
API, the claim before each post to the clinic.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from enum import StrEnum

from bot.domain.questionnaire import Questionnaire

ADULT_AGE = 18

# The body site button's stored value (bot/domain/steps.py BODY_SITES).
GENITAL_BUTTON = "genital"

# Typed body sites naming a genital or anal area (or where one shows: groin, buttocks, nappy),
# in English, Spanish and Korean. Latin-script words match at the start of a word, so that a
# stem covers its forms ("genital": genitals, genitalia, genitales) while "mano" never matches
# "ano"; words too short or too common to be a stem match only whole.
_STEMS = (
    # English
    "genital",
    "penis",
    "penile",
    "foreskin",
    "prepuc",
    "scrot",
    "testic",
    "vulv",
    "vagin",
    "clitor",
    "pubi",
    "groin",
    "crotch",
    "perine",
    "perianal",
    "buttock",
    "glute",
    "diaper",
    "nappy",
    "nappies",
    "intim",
    "private part",
    # Spanish (compared without accents, "testículo" as "testiculo"; ñ is kept: año is no ano)
    "escrot",
    "ingle",
    "entrepierna",
    "nalga",
    "pañal",
    "partes privadas",
)
_WHOLE_WORDS = (
    "anus",
    "anal",
    "rectum",
    "rectal",
    "labia",
    "testes",
    "testis",
    "privates",
    "butt",
    "bum",
    "pene",
    "penes",
    "ano",
    "pipi",
    "colita",
    "pompis",
)
# Korean writes no space inside a word and particles attach to it ("생식기에"): a substring
# match. Single syllables such as 질 are left out: they occur inside unrelated words (각질).
_KOREAN = (
    "생식기",
    "성기",
    "음경",
    "고추",
    "고환",
    "음낭",
    "외음부",
    "음부",
    "음순",
    "항문",
    "똥꼬",
    "회음",
    "사타구니",
    "서혜부",
    "엉덩이",
    "둔부",
    "기저귀",
    "은밀",
)


def _normalised(typed: str) -> str:
    """Lower case, accents but ñ removed, one space between words; Hangul as it is."""
    protected = unicodedata.normalize("NFC", typed.casefold()).replace("ñ", "\0")
    decomposed = unicodedata.normalize("NFKD", protected)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", bare).replace("\0", "ñ").split())


_LATIN = re.compile(
    r"\b(?:"
    + "|".join(re.escape(_normalised(stem)) for stem in _STEMS)
    + r")|\b(?:"
    + "|".join(re.escape(word) for word in _WHOLE_WORDS)
    + r")\b"
)


def is_intimate_site(body_site: str | None) -> bool:
    """True for the "genital" button or a typed site naming a genital or anal area."""
    if body_site is None:
        return False
    if body_site == GENITAL_BUTTON:
        return True
    typed = _normalised(body_site)
    return bool(_LATIN.search(typed)) or any(word in typed for word in _KOREAN)


def may_be_a_minor(birth_year: int, today: dt.date) -> bool:
    """Whether someone born in `birth_year` could be under 18 on `today`.

    Only the year is known, so the person is today.year - birth_year years old if their
    birthday has passed, one year less if not. Conservative: under 18 unless even the younger
    of the two ages is 18, i.e. only people who turn 19 or more this year count as adults.
    """
    return today.year - birth_year - 1 < ADULT_AGE


class Safeguard(StrEnum):
    """What the photos of a case need before they may leave the bot."""

    NONE = "none"
    # Intimate photos of an adult, or of someone whose age is not given: one explicit yes.
    CONFIRM = "confirm"
    # Intimate photos of someone who may be under 18: never sent anywhere.
    REFUSE = "refuse"


def assess(questionnaire: Questionnaire, today: dt.date | None = None) -> Safeguard:
    if not is_intimate_site(questionnaire.body_site):
        return Safeguard.NONE
    year = questionnaire.birth_year
    if year is not None and may_be_a_minor(year, today or dt.date.today()):
        return Safeguard.REFUSE
    return Safeguard.CONFIRM


def refuses_sending(questionnaire: Questionnaire, today: dt.date | None = None) -> bool:
    """True when these photos must not leave the bot at all (call it before every upload)."""
    return assess(questionnaire, today) is Safeguard.REFUSE
