"""The result card: shaped for a phone's chat bubble, legible in it, in English, Korean, Spanish."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import random
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

import bot.card.render
from bot.card import (
    CardLayout,
    CardRow,
    CardText,
    layout_card,
    missing_glyphs,
    percent_label,
    render_card,
    render_card_async,
)
from bot.card.colours import (
    BACKGROUND,
    BAR_FILL,
    BAR_TRACK,
    GRAPHIC_CONTRAST,
    INK,
    TEXT_CONTRAST,
    TIER_COLOUR,
    TIER_INK,
    WHITE,
    contrast_ratio,
    ink,
    surface,
)
from bot.card.fonts import Weight, font
from bot.card.layout import (
    COMPACT,
    MARGIN,
    MAX_HEIGHT,
    MAX_ROWS,
    PHOTO_SIDES,
    PREFERRED,
    TEXT_MIN_DISPLAY_PX,
    TIER_MIN_DISPLAY_PX,
    WIDTH,
    Ink,
    Tier,
    display_px,
    layout_with,
)
from bot.card.wrap import wrap, wrap_balanced
from bot.domain.advice import Advice, AdviceTier
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.domain.result import CaseResult
from bot.i18n import SUPPORTED, speaking
from bot.i18n.conditions import condition_table
from bot.i18n.limits import LABEL_MAX_CHARS
from bot.i18n.texts import MESSAGES, text_in
from bot.views.result_card import card_caption, card_text

QUADRANTS = {
    "top_left": (220, 40, 40),
    "top_right": (40, 180, 60),
    "bottom_left": (40, 60, 220),
    "bottom_right": (240, 220, 40),
}


def _photo(side: int = 512) -> bytes:
    """A JPEG like the prepared one the API receives, with four colours to find on the card."""
    image = Image.new("RGB", (side, side))
    half = side // 2
    for colour, (x, y) in zip(
        QUADRANTS.values(), [(0, 0), (half, 0), (0, half), (half, half)], strict=True
    ):
        image.paste(colour, (x, y, x + half, y + half))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


PUBLIC_ID = uuid.UUID("3f9a2c71-0000-4000-8000-000000000001")
# Late in the evening in UTC: already the next day in Seoul.
CHECKED_AT = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
SEOUL = ZoneInfo("Asia/Seoul")

HIGH_RISK = (("Melanoma", 0.41), ("Basal cell carcinoma", 0.09), ("Melanocytic nevus", 0.08))


def _result(
    conditions: Sequence[tuple[str, float]] = HIGH_RISK,
    tier: AdviceTier = AdviceTier.WITHIN_2_WEEKS,
    patient_ref: str | None = None,
) -> CaseResult:
    return CaseResult(
        public_id=PUBLIC_ID,
        chat_id=1,
        language=None,
        diagnosis=Diagnosis(
            conditions=tuple(Condition(n, p) for n, p in conditions),
            malignancy_output=None,
            meta_used=True,
            photos_analysed=1,
        ),
        advice=Advice(tier=tier),
        clinic_queued=False,
        questionnaire=Questionnaire(),
        patient_ref=patient_ref,
        checked_at=CHECKED_AT,
    )


def _card(language: str, result: CaseResult | None = None, top: int = 5) -> CardText:
    with speaking(language):
        return card_text(result or _result(), top, SEOUL)


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _close(a: Any, b: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _tier_labels(language: str) -> dict[Tier, str]:
    return {tier: text_in(language, f"card_tier_{tier.value}") for tier in Tier}


# --- shape and legibility in the chat bubble


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize("tier", list(AdviceTier))
def test_the_card_fits_a_chat_bubble_by_its_width_with_legible_text(
    language: str, tier: AdviceTier
) -> None:
    card = _card(language, _result(tier=tier, patient_ref="P-0042"))
    layout = layout_card(card)
    image = _open(render_card(_photo(), card, language=language))
    assert image.size == (layout.width, layout.height) == (WIDTH, layout.height)
    # At most 1.25 times as tall as wide: Telegram shows it as wide as the bubble.
    assert layout.height <= MAX_HEIGHT == WIDTH * 1.25
    # Shown 250 px wide (a 360 dp phone's bubble): the tier 11 px or more, every other text 9.
    for line in layout.tier_lines:
        assert display_px(line.size) >= TIER_MIN_DISPLAY_PX
    for placed in layout.texts:
        assert display_px(placed.size) >= TEXT_MIN_DISPLAY_PX, placed.text
    assert display_px(layout.sizes.tier) >= 11 and display_px(layout.sizes.name) >= 9


def test_the_font_floors_are_the_issues_sizes_at_250_px() -> None:
    # 11 and 9 px at 250 px wide are 31.7 and 25.9 px on the 720 px card.
    assert COMPACT.tier == 32 and COMPACT.name == 26 and COMPACT.small == 26
    assert display_px(32) >= 11 > display_px(31)
    assert display_px(26) >= 9 > display_px(25)


@pytest.mark.parametrize("language", SUPPORTED)
def test_top_the_tier_and_its_time_frame_in_the_tiers_colour(language: str) -> None:
    card = _card(language)
    layout = layout_card(card)
    image = _open(render_card(_photo(), card, language=language))
    label = text_in(language, "card_tier_within_2_weeks")
    assert " ".join(line.text for line in layout.tier_lines).replace(" ", "") == label.replace(
        " ", ""
    )
    # The band is the top of the card, across its width, in the tier's colour.
    assert layout.band_box[:3] == (0, 0, WIDTH)
    assert all(line.y < layout.band_box[3] for line in layout.tier_lines)
    assert all(t.y >= layout.band_box[3] for t in layout.texts if t not in layout.tier_lines)
    # (The 256-colour palette may round a colour by a unit or two.)
    assert _close(image.getpixel((WIDTH - 4, 4)), TIER_COLOUR[Tier.WITHIN_2_WEEKS], 3)
    assert _close(image.getpixel((4, layout.band_box[3] - 4)), TIER_COLOUR[Tier.WITHIN_2_WEEKS], 3)


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_photo_is_smaller_and_beside_the_top_three_conditions(language: str) -> None:
    conditions = [*HIGH_RISK, ("Seborrheic keratosis", 0.05), ("Lentigo", 0.02)]
    card = _card(language, _result(conditions))
    layout = layout_card(card)
    image = _open(render_card(_photo(), card, language=language))
    left, top, right, bottom = layout.photo_box
    assert right - left == bottom - top <= PHOTO_SIDES[0] < WIDTH / 2
    quarter = (right - left) // 4
    centres = {
        "top_left": (left + quarter, top + quarter),
        "top_right": (right - quarter, top + quarter),
        "bottom_left": (left + quarter, bottom - quarter),
        "bottom_right": (right - quarter, bottom - quarter),
    }
    for name, point in centres.items():
        assert _close(image.getpixel(point), QUADRANTS[name]), name
    # Three of the five conditions, in order, with their scores; the names beside the photo.
    assert len(layout.name_lines) == len(layout.bars) == MAX_ROWS == 3
    with speaking(language):
        expected = [card_text(_result([c]), 5, SEOUL).rows[0].name for c in conditions[:MAX_ROWS]]
    shown = [" ".join(line.text for line in lines) for lines in layout.name_lines]
    assert [s.replace(" ", "") for s in shown] == [e.replace(" ", "") for e in expected]
    assert all(lines[0].x > right for lines in layout.name_lines)
    scores = [t.text for t in layout.texts if t.align_right]
    assert scores == [row.percent_text for row in card.rows[:3]]
    assert scores[0] == ("41\u00a0%" if language == "es" else "41%")


def test_a_smaller_top_setting_shows_fewer_conditions() -> None:
    assert len(_card("en", top=2).rows) == 2
    assert len(_card("en", top=10).rows) == 3


@pytest.mark.parametrize("language", SUPPORTED)
def test_no_condition_named_says_so(language: str) -> None:
    card = _card(language, _result(()))
    layout = layout_card(card)
    assert layout.bars == ()
    drawn = " ".join(t.text for t in layout.texts).replace(" ", "")
    assert text_in(language, "card_nothing").replace(" ", "") in drawn


# --- footer: date, id, patient code, disclaimer


def _footer(layout: CardLayout) -> str:
    return " ".join(line.text for line in layout.footer_lines)


@pytest.mark.parametrize(
    ("language", "date"), [("en", "2 Dec 2026"), ("ko", "2026. 12. 2."), ("es", "2 dic 2026")]
)
def test_the_footer_has_the_date_in_the_bots_time_zone_and_the_short_id(
    language: str, date: str
) -> None:
    layout = layout_card(_card(language))
    footer = _footer(layout)
    assert date in footer and "3f9a2c71" in footer
    assert "P-0042" not in footer
    with speaking(language):
        in_utc = card_text(_result(), 5, dt.UTC).footer
    assert date not in in_utc  # still 1 December in UTC
    disclaimer = text_in(language, "card_disclaimer")
    drawn = "".join(t.text for t in layout.texts).replace(" ", "")
    assert disclaimer.replace(" ", "") in drawn
    # Below the footer, at the bottom.
    assert max(t.y for t in layout.texts) > layout.footer_lines[-1].y


@pytest.mark.parametrize("language", SUPPORTED)
def test_a_field_workers_check_shows_the_patients_code_as_typed(language: str) -> None:
    card = _card(language, _result(patient_ref="<P&17>"))
    footer = _footer(layout_card(card))
    # Drawn, not HTML: no escaping on the picture.
    assert "<P&17>" in footer and "3f9a2c71" in footer


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_caption_names_the_check_without_repeating_the_disclaimer(language: str) -> None:
    with speaking(language):
        plain = card_caption(_result(), SEOUL)
        coded = card_caption(_result(patient_ref="<P&17>"), SEOUL)
    date = layout_card(_card(language)).footer_lines[0].text.split(" · ")[0]
    for caption in (plain, coded):
        assert "3f9a2c71" in caption and date in caption
        assert text_in(language, "card_disclaimer") not in caption
        assert "FDA" not in caption
    # The caption is HTML: the code is escaped there.
    assert "&lt;P&amp;17&gt;" in coded and "P&" not in plain


def test_a_name_the_bot_knows_is_its_plain_name_an_unknown_one_the_ais_label() -> None:
    known = next(iter(condition_table().values()))
    for language in SUPPORTED:
        card = _card(language, _result([(known.api_name, 0.5), ("Zorblax rash", 0.2)]))
        assert card.rows[0].name == known.plain[language]
        assert card.rows[1].name == text_in(language, "card_ai_label", name="Zorblax rash")


# --- the worst cases: longest names and tier labels in every language, nothing overflows


def _longest_names(language: str, count: int = MAX_ROWS) -> list[str]:
    face = font(Weight.REGULAR, COMPACT.name)
    names = {info.plain[language] for info in condition_table().values()}
    return sorted(names, key=lambda n: (face.getlength(n), n), reverse=True)[:count]


def _longest_label(language: str) -> str:
    face = font(Weight.BOLD, COMPACT.tier)
    return max(_tier_labels(language).values(), key=face.getlength)


def _boxes_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_nothing_overflows(layout: CardLayout, card: CardText) -> None:
    photo_right = layout.photo_box[2]
    for placed in layout.texts:
        left, _, right, bottom = placed.advance_box
        assert left >= MARGIN and right <= WIDTH - MARGIN, placed.text
        ink_left, ink_top, ink_right, ink_bottom = placed.ink_box
        assert ink_left >= 0 and ink_right <= WIDTH and ink_top >= 0, placed.text
        assert ink_bottom <= layout.height, placed.text
        # Texts beside the photo stay clear of it; texts on the band stay on it.
        if layout.photo_box[1] <= placed.y < layout.photo_box[3]:
            assert left > photo_right, placed.text
        if placed.ink is Ink.ON_TIER:
            assert bottom <= layout.band_box[3], placed.text
    # No two texts' strokes on top of each other, nor on a bar.
    for i, a in enumerate(layout.texts):
        for b in layout.texts[i + 1 :]:
            assert not _boxes_overlap(a.ink_box, b.ink_box), (a.text, b.text)
        for bar in layout.bars:
            assert not _boxes_overlap(a.ink_box, bar.box), a.text
    # Wrapped, never cut: every text is there, whole.
    drawn = "".join(p.text for p in layout.texts).replace(" ", "")
    for whole in (card.tier_label, card.heading, card.footer, card.disclaimer):
        assert whole.replace(" ", "") in drawn
    for row in card.rows[:MAX_ROWS]:
        assert row.name.replace(" ", "") in drawn


def _five_line_label(language: str) -> str:
    label = _longest_label(language)
    face = font(Weight.BOLD, COMPACT.tier)
    words = (label + " ") * 6
    width = WIDTH - 2 * MARGIN - 92
    while len(wrap(words, face, width)) > 5:
        words = words.rsplit(" ", 2)[0] + " "
    return words.strip()


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize("labels", ["catalog", "five_lines"])
def test_the_longest_texts_wrap_inside_the_card_in_every_language(
    language: str, labels: str
) -> None:
    names = _longest_names(language)
    label = _longest_label(language) if labels == "catalog" else _five_line_label(language)
    card = replace(
        _card(language, _result(patient_ref="X" * 24)),
        tier_label=label,
        rows=[CardRow(name, 0.333) for name in names],
    )
    layout = layout_card(card)
    if labels == "five_lines":
        assert len(layout.tier_lines) >= 4
    assert layout.height <= MAX_HEIGHT
    _assert_nothing_overflows(layout, card)
    assert display_px(layout.sizes.tier) >= 11 and display_px(layout.sizes.name) >= 9
    _open(render_card(_photo(), card, language=language))


@pytest.mark.parametrize("language", SUPPORTED)
def test_three_of_the_longest_ai_labels_still_fit(language: str) -> None:
    # A name the bot has no entry for is the AI's own label, cut to LABEL_MAX_CHARS.
    label = ("Keratosis " * 10)[: LABEL_MAX_CHARS - 2]
    card = _card(language, _result([(label, 0.3)] * 3))
    layout = layout_card(card)
    assert layout.height <= MAX_HEIGHT
    _assert_nothing_overflows(layout, card)


def test_texts_too_long_for_any_layout_still_wrap_whole_on_a_taller_card() -> None:
    huge = " ".join(["Hyperpigmentation"] * 30)
    card = replace(_card("en"), rows=[CardRow(huge, 0.4)] * 3, tier_label=huge)
    layout = layout_card(card)
    assert layout.height > MAX_HEIGHT
    assert layout.sizes == COMPACT and layout.photo_box[2] - layout.photo_box[0] == PHOTO_SIDES[-1]
    _assert_nothing_overflows(layout, card)


def test_longer_texts_first_shrink_the_photo_then_the_fonts() -> None:
    base = _card("es")
    seen = set()
    for words in range(1, 16):
        name = " ".join(["Hiperpigmentación"] * words)
        card = replace(base, rows=[CardRow(name, 0.3), *base.rows[1:]])
        chosen = layout_card(card)
        side = chosen.photo_box[2] - chosen.photo_box[0]
        seen.add((chosen.sizes, side))
        if chosen.height > MAX_HEIGHT:
            continue  # nothing fits; test_texts_too_long_for_any_layout_... covers it
        # Every layout with larger fonts, or as large and a larger photo, would not fit.
        bigger = [(PREFERRED, s) for s in PHOTO_SIDES] if chosen.sizes == COMPACT else []
        bigger += [(chosen.sizes, s) for s in PHOTO_SIDES if s > side]
        for sizes, larger in bigger:
            assert layout_with(card, sizes=sizes, photo_side=larger).height > MAX_HEIGHT
    # The words above reach both a smaller photo and the compact fonts.
    assert (PREFERRED, PHOTO_SIDES[0]) in seen
    assert any(sizes == PREFERRED and side < PHOTO_SIDES[0] for sizes, side in seen)
    assert any(sizes == COMPACT for sizes, _ in seen)


# --- colours: WCAG contrast of every text and icon, for every tier


def _contrast_failures() -> list[str]:
    failures = []
    for tier in Tier:
        layout = layout_card(replace(_card("en"), tier=tier.value))
        for placed in layout.texts:
            ratio = contrast_ratio(ink(placed.ink, tier), surface(placed.surface, tier))
            if ratio < TEXT_CONTRAST:
                failures.append(f"{tier} {placed.ink} text {placed.text!r}: {ratio:.2f}")
        icon = contrast_ratio(TIER_INK[tier], TIER_COLOUR[tier])
        if icon < GRAPHIC_CONTRAST:
            failures.append(f"{tier} icon: {icon:.2f}")
    for name, colour in INK.items():
        if contrast_ratio(colour, BACKGROUND) < TEXT_CONTRAST:
            failures.append(f"ink {name}")
    for against in (BAR_TRACK, BACKGROUND):
        if contrast_ratio(BAR_FILL, against) < GRAPHIC_CONTRAST:
            failures.append(f"score bar against {against}")
    return failures


def test_every_text_and_icon_contrasts_enough_with_its_background() -> None:
    assert _contrast_failures() == []
    inks = {placed.ink for placed in layout_card(_card("en")).texts}
    assert inks == set(Ink)  # every ink was checked on the card it is drawn on


def test_the_contrast_check_catches_a_colour_that_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    assert contrast_ratio((0, 0, 0), WHITE) == pytest.approx(21)
    assert contrast_ratio(WHITE, WHITE) == pytest.approx(1)
    # The reference value of WCAG's own example: #767676 on white is just 4.54:1.
    assert contrast_ratio((118, 118, 118), WHITE) == pytest.approx(4.54, abs=0.01)
    monkeypatch.setitem(TIER_INK, Tier.WITHIN_2_WEEKS, WHITE)
    assert any(f.startswith("within_2_weeks") for f in _contrast_failures())


def test_the_drawn_card_uses_the_checked_colours() -> None:
    for tier in Tier:
        card = replace(_card("en"), tier=tier.value)
        layout = layout_card(card)
        image = _open(render_card(_photo(), card, language="en"))
        assert _close(image.getpixel((WIDTH - 4, 4)), TIER_COLOUR[tier], 3)
        line = layout.tier_lines[0]
        pixels = list(image.crop(line.ink_box).get_flattened_data())
        # The label's strokes are the band's ink, up to the palette's rounding.
        assert any(_close(p, TIER_INK[tier], 24) for p in pixels)


def test_each_tier_has_its_own_colour_and_icon_shape_in_urgency_order() -> None:
    icons = {}
    for tier in Tier:
        card = replace(_card("en"), tier=tier.value)
        layout = layout_card(card)
        image = _open(render_card(_photo(), card, language="en"))
        # The icon's shape as a mask of its ink, so it reads without colour.
        icons[tier] = (
            image.crop(layout.icon_box)
            .convert("L")
            .point(lambda v, t=tier: 255 * (abs(v - (255 if TIER_INK[t] == WHITE else 26)) < 60))
            .tobytes()
        )
    assert len(set(TIER_COLOUR.values())) == len(Tier) == 5
    assert len(set(icons.values())) == 5
    # The scale from the most urgent: same order as AdviceTier.urgency.
    assert list(TIER_COLOUR) == sorted(Tier, key=lambda t: -AdviceTier(t.value).urgency)


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError):
        render_card(_photo(), replace(_card("en"), tier="panic"), language="en")


# --- the font and the wrapping


def test_every_character_the_card_draws_has_a_glyph() -> None:
    for language in SUPPORTED:
        card = _card(language, _result(patient_ref="P-0042"))
        strings = [card.tier_label, card.heading, card.footer, card.disclaimer, card.nothing]
        strings += [row.name for row in card.rows] + [row.percent_text for row in card.rows]
        for weight in Weight:
            for text in strings:
                assert missing_glyphs(text, weight) == set(), (language, text)
    assert {k for k in MESSAGES if k.startswith("card_")} >= {"card_footer", "card_title"}


def test_missing_glyphs_names_characters_the_font_cannot_draw() -> None:
    # Chinese and Japanese are not in the subset: a catalog in them would show boxes.
    assert missing_glyphs("Nevus 中 あ") == {"中", "あ"}


LONG = {
    "en": "Post-inflammatory hyperpigmentation of the skin after an eczema flare-up",
    "ko": "염증후과다색소침착증에의한피부변화와기타여러가지색소성질환",
    "es": "Hiperpigmentación postinflamatoria de la piel tras un brote de eczema atópico",
}


def test_wrapping_breaks_between_words_not_inside_them() -> None:
    face = font(Weight.REGULAR, 32)
    text = LONG["es"]
    lines = wrap(text, face, 300)
    assert len(lines) > 2
    assert " ".join(lines) == text
    words = set(text.split())
    for line in lines:
        assert set(line.split()) <= words
        assert face.getlength(line) <= 300


def test_a_word_longer_than_the_line_is_cut_per_character() -> None:
    face = font(Weight.REGULAR, 32)
    lines = wrap("곤충 " + LONG["ko"], face, 300)
    assert lines[0] == "곤충"  # the short word is not glued to a piece of the long one
    assert "".join(lines[1:]) == LONG["ko"]
    assert all(face.getlength(line) <= 300 for line in lines)


def test_hyphens_and_slashes_are_break_points() -> None:
    face = font(Weight.REGULAR, 32)
    text = "Seborrheic keratosis/irritated"
    width = face.getlength("Seborrheic keratosis/") + 1
    assert wrap(text, face, width) == ["Seborrheic keratosis/", "irritated"]


def test_balanced_wrapping_evens_the_lines_out_without_adding_any() -> None:
    face = font(Weight.BOLD, 40)
    text = "See a dermatologist within 2 weeks"
    width = face.getlength("See a dermatologist within") + 2
    assert wrap(text, face, width) == ["See a dermatologist within", "2 weeks"]
    assert wrap_balanced(text, face, width) == ["See a dermatologist", "within 2 weeks"]
    for sample in LONG.values():
        plain, even = wrap(sample, face, 400), wrap_balanced(sample, face, 400)
        assert len(even) == len(plain)
        assert "".join(even).replace(" ", "") == "".join(plain).replace(" ", "")
        assert all(face.getlength(line) <= 400 for line in even)


# --- scores and bars


def test_bars_are_as_long_as_the_score() -> None:
    rows = [CardRow("Half", 0.5), CardRow("Tiny", 0.004), CardRow("None", 0.0)]
    card = replace(_card("en"), rows=rows)
    layout = layout_card(card)
    image = _open(render_card(_photo(), card, language="en"))

    def filled(bar_index: int, fraction: float) -> bool:
        left, top, right, bottom = layout.bars[bar_index].box
        point = (round(left + (right - left) * fraction), (top + bottom) // 2)
        return _close(image.getpixel(point), BAR_FILL)

    assert filled(0, 0.45) and not filled(0, 0.55)
    # Below 1% still shows a sliver, and the text says "<1%", not "0%".
    assert filled(1, 0.01) and not filled(1, 0.1)
    assert not filled(2, 0.01)
    texts = [t.text for t in layout.texts]
    assert "50%" in texts and "<1%" in texts and "0%" in texts


@pytest.mark.parametrize(
    ("probability", "label"),
    [(0.0, "0%"), (0.004, "<1%"), (0.01, "1%"), (0.273, "27%"), (0.995, ">99%"), (1.0, "100%")],
)
def test_percent_label(probability: float, label: str) -> None:
    assert percent_label(probability) == label


# --- the photo and the PNG


def test_photo_may_be_an_image_of_any_shape() -> None:
    wide = Image.new("RGB", (1200, 600), (40, 180, 60))
    card = _card("en")
    image = _open(render_card(wide, card, language="en"))
    left, top, right, bottom = layout_card(card).photo_box
    assert _close(image.getpixel((left + 12, (top + bottom) // 2)), (40, 180, 60))
    assert _close(image.getpixel((right - 12, (top + bottom) // 2)), (40, 180, 60))


def test_a_photo_that_compresses_badly_is_drawn_smaller_to_keep_the_card_small(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pure noise is the worst case for PNG; with a budget it cannot meet at full size, the
    # photo is drawn at the next smaller size.
    noise = Image.frombytes("RGB", (512, 512), random.Random(8).randbytes(512 * 512 * 3))
    card = _card("en")
    full = render_card(noise, card, language="en")
    monkeypatch.setattr(bot.card.render, "MAX_PNG_BYTES", len(full) - 1)
    smaller = render_card(noise, card, language="en")
    assert len(smaller) < len(full)
    assert _open(smaller).width == WIDTH
    layout = layout_with(card, sizes=layout_card(card).sizes, photo_side=PHOTO_SIDES[1])
    assert _open(smaller).height == layout.height


def test_the_card_is_a_small_png() -> None:
    png = render_card(_photo(), _card("es"), language="es")
    assert len(png) < 150_000


async def test_async_rendering_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    original = bot.card.render.render_card

    def recording(*args: Any, **kwargs: Any) -> bytes:
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(bot.card.render, "render_card", recording)
    card = _card("ko")
    png = await render_card_async(_photo(), card, language="ko")
    assert _open(png).width == WIDTH
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="card") as executor:
        again = await render_card_async(_photo(), card, language="ko", executor=executor)
        executor_thread = executor.submit(threading.get_ident).result()
    assert again == png
    loop_thread = threading.get_ident()
    assert len(threads) == 2 and loop_thread not in threads
    assert threads[1] == executor_thread


async def test_the_event_loop_keeps_running_while_a_card_renders() -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await render_card_async(_photo(), _card("es"), language="es")
    done.set()
    await task
    assert ticks > 1
