"""The consent text a person accepts before any photo leaves the bot, versioned in code.

The bot must be able to prove which text someone agreed to, so every consent record stores the
terms version and the SHA-256 of the exact text shown. `REGISTERED_SHA256` pins every text ever
shown: a test fails when the current text no longer matches its registered hash, so whoever edits
the text must bump `TERMS_VERSION` and register the new hash (old entries stay, they are proof).

To add a language: add its text to `_TEXTS` and its hash under the current version.
To change the text: edit it, bump `TERMS_VERSION`, register the new hash of every language.

Triage (bot/triage): when the clinic's clinicians see the cases, the text says so. That is a
different text, so a different version (`TERMS_VERSION` + "-triage") with its own hashes: people
who agreed without the clause are asked again. A deployment shows one edition, chosen once at
start-up from the settings with `use_triage()`.
"""

from __future__ import annotations

import hashlib

TERMS_VERSION = "1"
DEFAULT_LANGUAGE = "en"

_TEXT_EN = """\
Before you send any photo, please read this.

1. Only send photos you are allowed to share. If the skin is someone else's, you need their \
permission (or their parent's or guardian's) first.
2. Your photos and answers are sent to the Model Dermatology service. Its operator keeps every \
photo and answer it receives, and uses the photos to train its algorithm.
3. The algorithm is NOT certified by the FDA or CE. Its answer is not a diagnosis. See a doctor \
or nurse about any skin problem, and go at once if it changes quickly, bleeds, or you feel unwell.
4. The operator of the service is not responsible for wrong answers, or for the service being \
down.

What this bot keeps: your Telegram user id and language, your answers, references to your photos \
on Telegram (not copies), the results, and this agreement (which text you accepted, and when). \
Finished cases are deleted automatically after a while.

You can change your mind at any time:
/withdraw - stop: nothing more will be sent.
/delete - erase your cases, answers and photo references from this bot. It keeps only the record \
of what you agreed to and that you withdrew, as the law requires. It cannot delete what the \
Model Dermatology service already received.
/privacy - what this bot stores and for how long.
"""

_TRIAGE_CLAUSE_EN = """\
5. The clinic that runs this bot reviews every check: its clinicians see your photos, your \
answers and the AI's result in the clinic's private Telegram group (not your name or Telegram \
account). A clinician may send you messages here and will tell you what to do next. This bot \
keeps their decisions and the messages between you and the clinic; /delete erases them too.
"""

# language -> text of the current version.
_TEXTS: dict[str, str] = {"en": _TEXT_EN}
# The same with the triage clause, after the numbered points.
_TRIAGE_TEXTS: dict[str, str] = {
    language: body.replace("\n\nWhat this bot keeps:", "\n" + clause + "\nWhat this bot keeps:", 1)
    for language, body, clause in (("en", _TEXT_EN, _TRIAGE_CLAUSE_EN),)
}
TRIAGE_SUFFIX = "-triage"

# (version, language) -> SHA-256 of the text shown. Append only: old entries prove old consents.
REGISTERED_SHA256: dict[tuple[str, str], str] = {
    ("1", "en"): "ce575dc4528520b1b734edff5a8fbd34a9ca8bf07ad8c7a8d32c9a4dda00b8a4",
    ("1-triage", "en"): "d2ebb617e4a3ce74c6493efaf773d97e50d10f1dbef677ec1c81637a93fb9c24",
}


class _Edition:
    """Which text this deployment shows: set once at start-up (bot/app.py), never at import."""

    triage = False


def use_triage(enabled: bool) -> None:
    """Show the edition with the triage clause (True) or without it."""
    _Edition.triage = enabled


def triage_in_use() -> bool:
    return _Edition.triage


def current_version() -> str:
    """The version people must have accepted now: TERMS_VERSION, or its triage edition."""
    return TERMS_VERSION + TRIAGE_SUFFIX if _Edition.triage else TERMS_VERSION


class UnknownTerms(LookupError):
    """A terms version or language that was never shown, so no consent to it can be recorded."""


def languages() -> tuple[str, ...]:
    return tuple(_TEXTS)


def resolve_language(language: str | None) -> str:
    """The language the text will be shown in: the person's own if we have it, else English."""
    code = (language or "").split("-", 1)[0].lower()
    return code if code in _TEXTS else DEFAULT_LANGUAGE


def terms_text(language: str | None = DEFAULT_LANGUAGE, *, triage: bool | None = None) -> str:
    """The current consent text, in `language` when available (falls back to English).

    `triage` picks the edition; by default the one this deployment shows.
    """
    with_clause = _Edition.triage if triage is None else triage
    return (_TRIAGE_TEXTS if with_clause else _TEXTS)[resolve_language(language)]


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def terms_sha256(language: str | None = DEFAULT_LANGUAGE) -> str:
    """SHA-256 of the current text exactly as shown in `language`."""
    return sha256_of(terms_text(language))


def version_sha256(version: str, language: str) -> str:
    """SHA-256 of the text of `version` as shown in `language`: computed for the current texts,
    the pinned hash for older ones."""
    if version == TERMS_VERSION:
        return sha256_of(terms_text(language, triage=False))
    if version == TERMS_VERSION + TRIAGE_SUFFIX:
        return sha256_of(terms_text(language, triage=True))
    return registered_sha256(version, language)


def registered_sha256(version: str, language: str) -> str:
    """The pinned hash of a text that was shown; UnknownTerms if it never existed."""
    try:
        return REGISTERED_SHA256[(version, language)]
    except KeyError:
        raise UnknownTerms(f"no terms text version {version!r} in language {language!r}") from None
