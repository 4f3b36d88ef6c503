"""Telegram's limits on what the bot sends, and text from outside made fit to be shown in it.

Telegram refuses a message text over 4096 characters and a caption over 1024, counted after the
HTML markup is parsed, in UTF-16 code units (an emoji outside the BMP counts two). A refused
result is a result the person never gets, so every text that carries what the API supplied
(condition names) is built to fit: each name is cleaned (`clean_label`) and cut to
`LABEL_MAX_CHARS` (`trim_label`) before it is put in, and the builders check the whole with
`visible_length` and drop lower-ranked lines rather than send something too long.

Cleaning happens twice on purpose. The API client cleans every name it reads
(bot/modelderm/protocol.py), so storage, the advice rules (an invisible character inside
"mela\u200bnoma" must not hide a melanoma from them), the CLI and every screen get the same
clean names. Display cleans again, because results stored before this existed are shown too,
and cleaning is idempotent. Trimming is for display only: the stored name stays whole.
"""

from __future__ import annotations

import html
import re
import unicodedata

TEXT_MAX_UTF16 = 4096
CAPTION_MAX_UTF16 = 1024
# A condition name as shown: well above the longest name in bot/i18n/conditions.json (in any of
# its languages), so only names nobody has seen the API give are ever cut.
LABEL_MAX_CHARS = 60
ELLIPSIS = "…"
# More combining marks than this on one character is "Zalgo" text, not a language.
MAX_MARKS_PER_CHARACTER = 4

# Control (Cc: C0, DEL, C1) and format characters (Cf: bidi embeddings, overrides and isolates
# U+202A-202E and U+2066-2069, marks U+200E U+200F U+061C, zero-width space and joiners
# U+200B-200D, word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, ...), lone surrogates (Cs),
# private-use (Co: any font may draw anything there) and unassigned code points (Cn).
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_MARKS = frozenset({"Mn", "Mc", "Me"})
_TAG = re.compile(r"<[^>]*>")


def clean_label(text: str) -> str:
    """Text from outside the bot, safe to put inside a sentence of the bot's own.

    NFC-normalised; every kind of whitespace and line break becomes one space; control, format
    (bidi, zero-width), surrogate, private-use and unassigned characters are removed; a
    combining mark cannot start it or pile up. Idempotent.
    """
    out: list[str] = []
    marks = 0
    for ch in unicodedata.normalize("NFC", text):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
            marks = 0
            continue
        category = unicodedata.category(ch)
        if category in _DROPPED:
            continue
        if category in _MARKS:
            # On nothing, on a space or beyond the few a real script uses: dropped.
            if not out or out[-1] == " " or marks >= MAX_MARKS_PER_CHARACTER:
                continue
            marks += 1
        else:
            marks = 0
        out.append(ch)
    cleaned = "".join(out).strip()
    return unicodedata.normalize("NFC", cleaned)


def trim_label(text: str, max_chars: int = LABEL_MAX_CHARS) -> str:
    """`text` cut to at most `max_chars` characters, ellipsis included, between two whole
    characters as a reader sees them (never between a letter and its accents, in an emoji
    sequence or a flag), at a space when one is near the end."""
    if len(text) <= max_chars:
        return text
    cut = max_chars - len(ELLIPSIS)
    while cut > 0 and _continues(text, cut):
        cut -= 1
    space = text.rfind(" ", 0, cut + 1)
    if space > cut * 2 // 3:
        cut = space
    return text[:cut].rstrip() + ELLIPSIS


def _continues(text: str, index: int) -> bool:
    """Whether `text[index]` belongs to the same user-perceived character as the one before."""
    ch = text[index]
    code = ord(ch)
    if unicodedata.category(ch) in _MARKS:
        return True
    if 0x1F3FB <= code <= 0x1F3FF or 0xFE00 <= code <= 0xFE0F or 0xE0020 <= code <= 0xE007F:
        return True  # skin-tone modifiers, variation selectors, emoji tag sequences
    if code == 0x200D or ord(text[index - 1]) == 0x200D:
        return True  # zero-width joiner sequences (when the text was not cleaned)
    if 0x1160 <= code <= 0x11FF:
        return True  # conjoining Hangul vowels and final consonants
    if _is_regional_indicator(code):
        # Flags are pairs: cutting after an odd number of indicators splits one.
        run = 0
        while index - run - 1 >= 0 and _is_regional_indicator(ord(text[index - run - 1])):
            run += 1
        return run % 2 == 1
    return False


def _is_regional_indicator(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF


def display_label(text: str, max_chars: int = LABEL_MAX_CHARS) -> str:
    """Outside text as shown: cleaned, then trimmed."""
    return trim_label(clean_label(text), max_chars)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(markup: str) -> int:
    """How long Telegram counts a text in its HTML parse mode: tags removed, entities decoded,
    in UTF-16 code units. Assumes every value in `markup` was escaped (as `text()` does)."""
    return utf16_length(html.unescape(_TAG.sub("", markup)))
