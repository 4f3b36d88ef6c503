"""The Model Dermatology wire format: encode the metadata (`args2`), read the answers.

Pure functions, no I/O. The protocol is tag text, not XML (see /work/shared/modelderm-api.md):
nothing is escaped, so free text is cleaned until it cannot open or close a tag, and answers are
read tolerantly because their exact shape is undocumented beyond one example line.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import (
    OLDEST_BIRTH_YEAR,
    Onset,
    Questionnaire,
    Severity,
    Sex,
    youngest_birth_year,
)
from bot.i18n.limits import clean_label
from bot.modelderm.errors import AnswerError

BODY_SITE_MAX = 60
CASE_ID_MAX_LEN = 64
EXCERPT_MAX_LEN = 120

METADATA_TAGS = ("id", "race", "birth", "sex", "location", "pruritus", "pain", "onset")

# Characters that are, or look like, or fold (under some normalisation) into an angle bracket.
# NFKC folds some of them (fullwidth and small forms), others only look alike; a server or a
# reader further down the line may fold any of them, so all go.
ANGLE_LOOKALIKES = frozenset(
    "<>"
    "\uff1c\uff1e"  # ＜ ＞ fullwidth
    "\ufe64\ufe65"  # ﹤ ﹥ small
    "\u2039\u203a"  # ‹ › single guillemets
    "\u00ab\u00bb"  # « » guillemets
    "\u02c2\u02c3\u02c4\u02c5"  # ˂ ˃ ˄ ˅ modifier arrowheads
    "\u1438\u1433"  # ᐸ ᐳ Canadian syllabics PA, PO
    "\u27e8\u27e9\u27ea\u27eb\u27ec\u27ed"  # ⟨ ⟩ ⟪ ⟫ ⟬ ⟭ mathematical angle brackets
    "\u2329\u232a"  # 〈 〉 (fold to U+3008/3009)
    "\u3008\u3009\u300a\u300b"  # 〈 〉 《 》 CJK angle brackets
    "\ufe3d\ufe3e\ufe3f\ufe40"  # ︽ ︾ ︿ ﹀ vertical angle brackets
    "\u276c\u276d\u276e\u276f\u2770\u2771"  # ❬ ❭ ❮ ❯ ❰ ❱ ornaments
    "\u29fc\u29fd"  # ⧼ ⧽ curved angle brackets
    "\u2991\u2992\u2993\u2994\u2995\u2996"  # ⦑ ⦒ ⦓ ⦔ ⦕ ⦖
    "\u2264\u2265\u2266\u2267\u226a\u226b\u226e\u226f"  # ≤ ≥ ≦ ≧ ≪ ≫ ≮ ≯
    "\u22d6\u22d7\u22d8\u22d9"  # ⋖ ⋗ ⋘ ⋙
    "\u227a\u227b\u22b0\u22b1\u22b2\u22b3"  # ≺ ≻ ⊰ ⊱ ⊲ ⊳
    "\u2a7d\u2a7e\u2aa1\u2aa2\u2af7\u2af8"  # ⩽ ⩾ ⪡ ⪢ ⫷ ⫸
    "\u29c0\u29c1"  # ⧀ ⧁
    "\u25c1\u25b7\u25c0\u25b6\u23f4\u23f5"  # ◁ ▷ ◀ ▶ ⏴ ⏵
    "\U0001f8a4\U0001f8a5"  # 🢤 🢥
)
# Names of further look-alikes not worth listing one by one (there are dozens of inequality
# and arrowhead symbols); a body site or case id never needs any of them.
_ANGLE_NAME_WORDS = (
    "LESS-THAN",
    "GREATER-THAN",
    "ANGLE BRACKET",
    "ANGLE QUOTATION",
    "CHEVRON",
    "GUILLEMET",
    "ARROWHEAD",
    "PRECEDES",
    "SUCCEEDS",
    "POINTING TRIANGLE",
    "POINTING ISOSCELES",
)
# Escapes that a decoder down the line (unicode_escape, HTML, URL decoding) could turn into an
# angle bracket; removed until none is left.
_ESCAPE_SHAPES = re.compile(
    r"\\|&(?:#x?[0-9a-f]+|[a-z][a-z0-9]*);|&(?:#x0*3[ce]|#0*6[02]|lt|gt)|%3c|%3e",
    re.IGNORECASE,
)
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_TRAILING_MARKS = frozenset({"Mn", "Mc", "Me", "Sk"})


def _is_angle_like(ch: str) -> bool:
    if ch in ANGLE_LOOKALIKES:
        return True
    if ch.isascii():
        return False
    for form in ("NFKD", "NFKC"):
        folded = unicodedata.normalize(form, ch)
        if "<" in folded or ">" in folded:
            return True
    name = unicodedata.name(ch, "")
    return any(word in name for word in _ANGLE_NAME_WORDS)


def _filter_chars(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in _DROPPED_CATEGORIES or _is_angle_like(ch):
            continue
        else:
            out.append(ch)
    return "".join(out)


def clean_free_text(text: str, max_len: int) -> str:
    """Text a person typed, made safe to put between two tags of `args2`.

    NFKC-normalised, without control/format characters, angle brackets or anything that looks
    like or could be decoded into one, whitespace collapsed, at most `max_len` characters.
    Idempotent: cleaning the result again changes nothing.
    """
    if max_len <= 0:
        return ""
    # Removing one character can let normalisation compose or expose another, and removing
    # one escape can join two halves into a new one: repeat until nothing changes.
    previous = None
    current = text
    while current != previous:
        previous = current
        current = unicodedata.normalize("NFKC", current)
        current = _filter_chars(current)
        current = _ESCAPE_SHAPES.sub("", current)
        current = " ".join(current.split())
        current = _cut(current, max_len)
    return current


def _cut(text: str, max_len: int) -> str:
    if len(text) <= max_len:
        return text
    cut = max_len
    # Never leave a combining mark (or an emoji modifier) cut off from its base character.
    while cut > 0 and unicodedata.category(text[cut]) in _TRAILING_MARKS:
        cut -= 1
    return text[:cut].rstrip()


def encode_metadata(questionnaire: Questionnaire, case_id: str | None = None) -> str:
    """`args2`: all eight tags, always in the protocol's order, empty where unknown."""
    q = questionnaire
    values = {
        "id": clean_free_text(case_id, CASE_ID_MAX_LEN) if case_id else "",
        "race": _checked_skin_type(q.skin_type),
        "birth": _checked_birth_year(q.birth_year),
        "sex": _checked_code(q.sex, Sex),
        "location": clean_free_text(q.body_site, BODY_SITE_MAX) if q.body_site else "",
        "pruritus": _checked_code(q.itch, Severity),
        "pain": _checked_code(q.pain, Severity),
        "onset": _checked_code(q.onset, Onset),
    }
    return "".join(f"<{tag}>{values[tag]}</{tag}>" for tag in METADATA_TAGS)


def _checked_skin_type(value: int | None) -> str:
    # The Questionnaire validates too; this is the last line before the wire, so a value built
    # around that validation (object.__setattr__, from_dict of a bad row) still cannot pass.
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 6:
        raise ValueError(f"skin type must be 1 to 6, not {value!r}")
    return str(value)


def _checked_birth_year(value: int | None) -> str:
    if value is None:
        return ""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not OLDEST_BIRTH_YEAR <= value <= youngest_birth_year()
    ):
        raise ValueError(f"year of birth out of range: {value!r}")
    return str(value)


def _checked_code(value: object, kind: type[Sex] | type[Severity] | type[Onset]) -> str:
    if value is None:
        return ""
    codes = {member.value for member in kind}
    if str(value) not in codes:
        raise ValueError(f"{value!r} is not one of {sorted(codes)}")
    return str(value)


# ---------------------------------------------------------------------------------- answers

# A tag, its value and its matching close tag; values may span lines.
_TAG = re.compile(r"<\s*([A-Za-z_][A-Za-z0-9_]*)\s*>(.*?)<\s*/\s*\1\s*>", re.DOTALL)
_HTML_MARK = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|title)\b", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<\s*title[^>]*>(.*?)<\s*/\s*title\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")
_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})"
    r"|\\U([0-9a-fA-F]{8})"
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PERCENT = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%")
_NUMBERISH = re.compile(r"[+-]?(?:nan|inf(?:inity)?)", re.IGNORECASE)
_RESULT_TAGS = frozenset({"error", "disease", "malignancy_output", "meta_used", "no_photo"})
# Rounding in the server's four-decimal output may push a value a hair past 1, and a sum of ten
# values rounded up by at most 0.00005 each up to 0.0005 past it.
_PROBABILITY_SLACK = 1e-6
_SUM_SLACK = 0.001


def decode_escapes(text: str) -> str:
    """Replace `\\uXXXX` (and surrogate pairs, and `\\UXXXXXXXX`) with the characters they name.

    The example client decodes the whole answer with Python's `unicode_escape`, which turns
    raw UTF-8 into mojibake; this decodes only the escapes and leaves real characters alone.
    """

    def replace(match: re.Match[str]) -> str:
        high, low, single, wide = match.groups()
        if high is not None:
            code = 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)
            return chr(code)
        if single is not None:
            code = int(single, 16)
            # A lone surrogate cannot be a character of valid text.
            return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)
        code = int(wide, 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _ESCAPE.sub(replace, text)


def excerpt(body: bytes | str, limit: int = EXCERPT_MAX_LEN) -> str:
    """A short single line standing for a body in errors and logs: an HTML page's title, or
    the first characters with whitespace collapsed and control characters removed."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    title = _HTML_TITLE.search(text)
    if title and title.group(1).strip():
        text = title.group(1)
    elif _HTML_MARK.search(text):
        text = _HTML_TAG.sub(" ", text)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf"}
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_answer(body: bytes, content_type: str | None = None) -> Diagnosis:
    """Read a diagnose answer into a Diagnosis (without server, latency and attempts).

    Accepts the tag format in any order and spacing, with optional tags missing, and a JSON
    object with the same keys. Conditions stay in the server's order (it ranks them, most
    likely first; re-sorting would hide a server that stopped doing so, and ties would move).
    A trailing condition name without a probability is ignored, the rest kept: it is the one
    sign of a cut-off list that is still worth showing. Everything else that is not a
    successful, readable answer raises AnswerError with a short excerpt of the body.
    """
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        raise AnswerError("empty answer")
    stripped = text.lstrip("\ufeff \t\r\n")
    is_json = content_type is not None and "json" in content_type.lower()
    if is_json or stripped.startswith(("{", "[")):
        return _parse_json(text)
    return _parse_tags(text)


def _parse_tags(text: str) -> Diagnosis:
    tags: dict[str, str] = {}
    for match in _TAG.finditer(text):
        name = match.group(1).lower()
        # The first occurrence wins: a later duplicate cannot overwrite what the server said.
        tags.setdefault(name, match.group(2))
    if "disease" not in tags:
        if _HTML_MARK.search(text):
            raise AnswerError("HTML page instead of an answer", excerpt(text))
        if re.search(r"<\s*disease\s*>", text, re.IGNORECASE):
            raise AnswerError("truncated answer", excerpt(text))
        if "error" in tags:
            _check_error(tags["error"], text)
        raise AnswerError("no <disease> in the answer", excerpt(text))
    if "error" in tags:
        _check_error(tags["error"], text)
    values = {name: decode_escapes(value).strip() for name, value in tags.items()}
    conditions = _parse_pairs(values["disease"], text)
    return Diagnosis(
        conditions=conditions,
        malignancy_output=_optional_int(values.get("malignancy_output")),
        meta_used=_optional_flag(values.get("meta_used")),
        photos_analysed=_optional_int(values.get("no_photo")),
        echoed_metadata={k: clean_label(v) for k, v in values.items() if k not in _RESULT_TAGS},
    )


def _check_error(value: object, body: str) -> None:
    code = str(value).strip()
    if code not in ("0", "", "False", "None"):
        raise AnswerError(f"the server reported error {code[:20]!r}", excerpt(body))


def _parse_pairs(value: str, body: str) -> tuple[Condition, ...]:
    """`name,probability,...`; a name may itself contain commas (it is every token up to the
    next number). Names are cleaned (bot/i18n/limits.py explains why here). No condition at all
    is not an answer the bot can use: an AnswerError."""
    if not value.strip():
        raise AnswerError("no condition in the answer", excerpt(body))
    conditions: list[Condition] = []
    name_parts: list[str] = []
    for token in value.split(","):
        probability = _probability(token, body)
        if probability is None:
            name_parts.append(token)
            continue
        name = clean_label(",".join(name_parts))
        if not name:
            raise AnswerError("a probability without a condition name", excerpt(body))
        conditions.append(Condition(name, probability))
        name_parts = []
    if not conditions:
        raise AnswerError("no condition with a probability", excerpt(body))
    return _checked_sum(tuple(conditions), body)


def _checked_sum(conditions: tuple[Condition, ...], body: str) -> tuple[Condition, ...]:
    """The outputs are a softmax over all conditions: the listed ones can add up to at most 1.
    More means the numbers are not probabilities, and showing them would mislead."""
    if sum(c.probability for c in conditions) > 1 + _SUM_SLACK:
        raise AnswerError("probabilities add up to more than 100%", excerpt(body))
    return conditions


def _probability(token: str, body: str) -> float | None:
    """The token as a probability; None when it is (part of) a name; AnswerError when it is a
    number that cannot be a probability."""
    token = token.strip()
    percent = _PERCENT.fullmatch(token)
    if percent:
        value = float(percent.group(1)) / 100
    elif _NUMBER.fullmatch(token):
        value = float(token)
    elif _NUMBERISH.fullmatch(token):
        raise AnswerError(f"probability {token!r} is not a number", excerpt(body))
    else:
        return None
    if not (math.isfinite(value) and -_PROBABILITY_SLACK <= value <= 1 + _PROBABILITY_SLACK):
        raise AnswerError(f"probability {token!r} is not between 0 and 1", excerpt(body))
    return min(max(value, 0.0), 1.0)


def _optional_int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d{1,9}", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d{1,9}\.0*", text):
        return int(float(text))
    return None


def _optional_flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    number = _optional_int(value)
    if number == 1:
        return True
    if number == 0:
        return False
    return None


def _parse_json(text: str) -> Diagnosis:
    try:
        data = json.loads(text)
    except ValueError:
        raise AnswerError("unreadable JSON answer", excerpt(text)) from None
    if not isinstance(data, dict):
        raise AnswerError("JSON answer is not an object", excerpt(text))
    lowered = {str(k).strip().lower(): v for k, v in data.items()}
    if "error" in lowered:
        _check_error(lowered["error"], text)
    if "disease" not in lowered:
        raise AnswerError("no disease in the JSON answer", excerpt(text))
    conditions = _json_conditions(lowered["disease"], text)
    echoed = {
        k: clean_label(decode_escapes(str(v)))
        for k, v in lowered.items()
        if k not in _RESULT_TAGS and isinstance(v, str | int | float) and not isinstance(v, bool)
    }
    return Diagnosis(
        conditions=conditions,
        malignancy_output=_optional_int(lowered.get("malignancy_output")),
        meta_used=_optional_flag(lowered.get("meta_used")),
        photos_analysed=_optional_int(lowered.get("no_photo")),
        echoed_metadata=echoed,
    )


def _json_conditions(value: Any, body: str) -> tuple[Condition, ...]:
    if isinstance(value, str):
        return _parse_pairs(decode_escapes(value).strip(), body)
    if not isinstance(value, list):
        raise AnswerError("disease is neither text nor a list", excerpt(body))
    conditions: list[Condition] = []
    for item in value:
        if isinstance(item, list | tuple) and len(item) == 2:
            name, raw = item
        elif isinstance(item, dict):
            keys = {str(k).lower(): v for k, v in item.items()}
            name = next((keys[k] for k in ("name", "label", "disease") if k in keys), None)
            raw = next((keys[k] for k in ("prob", "probability", "p", "score") if k in keys), None)
        else:
            raise AnswerError("unreadable condition in the JSON answer", excerpt(body))
        cleaned = clean_label(decode_escapes(name)) if isinstance(name, str) else ""
        if not cleaned:
            raise AnswerError("a condition without a name in the JSON answer", excerpt(body))
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise AnswerError("a condition without a probability", excerpt(body))
        probability = _probability(str(raw), body)
        if probability is None:
            raise AnswerError(f"probability {str(raw)[:20]!r} is not a number", excerpt(body))
        conditions.append(Condition(cleaned, probability))
    if not conditions:
        raise AnswerError("no condition in the answer", excerpt(body))
    return _checked_sum(tuple(conditions), body)
