"""Text from outside the bot, cleaned and cut so that it reads as written and fits Telegram."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n.limits import (
    ELLIPSIS,
    LABEL_MAX_CHARS,
    clean_label,
    display_label,
    trim_label,
    visible_length,
)
from tests.fakes.telegram_text import parse_html, utf16_len

anything = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("\u202e\u2066\u200b\u0301\n\r\t"),
    max_size=200,
)


def test_direction_invisible_and_control_characters_go_and_breaks_become_spaces() -> None:
    assert clean_label("Mela\u200bnoma\u202e\nYou are\u2066 healthy\u200f") == (
        "Melanoma You are healthy"
    )
    assert clean_label("  Tinea\r\n\tcorporis \x07\x1b[0m\u2028x ") == "Tinea corporis [0m x"
    assert clean_label("\ufeff\u00adSoft\u00ad hyphen") == "Soft hyphen"


def test_accents_survive_but_cannot_pile_up_or_stand_alone() -> None:
    assert clean_label("Eczéma") == "Eczéma"
    assert clean_label("Ecze\u0301ma") == "Eczéma"  # composed (NFC)
    assert clean_label("\u0301\u0301 start") == "start"
    piled = clean_label("Z" + "\u0335" * 40 + "algo")
    assert piled.startswith("Z") and piled.endswith("algo")
    assert len(piled) <= len("Zalgo") + 4
    assert clean_label("한국어 이름") == "한국어 이름"
    assert clean_label("👩🏽\u200d⚕️") == "👩🏽⚕️"  # the joiner goes: it is a format character


@settings(max_examples=300, deadline=None)
@given(text=anything)
def test_clean_label_is_idempotent_and_leaves_nothing_invisible(text: str) -> None:
    cleaned = clean_label(text)
    assert clean_label(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    for ch in cleaned:
        assert ch == " " or not ch.isspace()
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def test_long_labels_are_cut_at_a_space_with_an_ellipsis() -> None:
    name = "Very long condition name " * 10
    cut = trim_label(name)
    assert cut.endswith("name…") or cut.endswith("condition…") or cut.endswith("long…")
    assert len(cut) <= LABEL_MAX_CHARS
    assert name.startswith(cut.removesuffix(ELLIPSIS))
    assert trim_label("Insect bite") == "Insect bite"


def test_a_cut_never_splits_what_a_reader_sees_as_one_character() -> None:
    assert trim_label("x" * 58 + "🇰🇷🇰🇷") == "x" * 58 + ELLIPSIS  # not half a flag
    accented = trim_label("e\u0301" * 40)
    assert accented.endswith("e\u0301" + ELLIPSIS)
    toned = trim_label("y" * 58 + "👍🏽" * 3)
    assert toned == "y" * 58 + ELLIPSIS or toned.endswith("👍🏽" + ELLIPSIS)


@settings(max_examples=300, deadline=None)
@given(text=anything, limit=st.integers(min_value=2, max_value=80))
def test_trim_label_keeps_a_prefix_within_the_limit(text: str, limit: int) -> None:
    cut = trim_label(text, limit)
    assert len(cut) <= limit
    if cut != text:
        kept = cut.removesuffix(ELLIPSIS)
        assert text.startswith(kept)
        assert unicodedata.category(text[len(kept)]) not in ("Mn", "Mc", "Me") or not kept


@settings(max_examples=200, deadline=None)
@given(text=anything)
def test_display_label_is_short_and_clean(text: str) -> None:
    shown = display_label(text)
    assert len(shown) <= LABEL_MAX_CHARS
    assert clean_label(shown.removesuffix(ELLIPSIS)) == shown.removesuffix(ELLIPSIS).strip()


def test_visible_length_counts_as_telegram_does() -> None:
    for markup in (
        "<b>AI estimate</b> (check 1234)",
        'Tap <a href="https://example.org/a?b=c&amp;d">Acne</a> &amp; more &lt;3',
        "😀 <code>████░░</code>\n<i>x</i>",
    ):
        plain, _ = parse_html(markup)
        assert visible_length(markup) == utf16_len(plain)
