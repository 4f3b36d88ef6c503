"""Where everything on the result card goes, computed before anything is drawn.

The card is made for a chat bubble. Telegram fits a picture into the bubble by its width only
when it is at most about 1.25 times as tall as wide; a taller one is scaled down to fit its height,
and its text shrinks with it. On a 360 dp phone the bubble is about 250 px wide, so every font
here is chosen by the size it has there (`display_px`): the tier line at least
TIER_MIN_DISPLAY_PX, every other text at least TEXT_MIN_DISPLAY_PX.

From top to bottom: a band in the tier's colour with its icon and the tier with its time frame;
the photo with the top conditions and their AI match scores beside it; a footer with the check's
date, its id (and the patient's code) and the disclaimer. Every text is wrapped with the real
font, never cut. When long texts (Korean, Spanish) would make the card taller than MAX_HEIGHT,
the photo is drawn smaller, giving the texts more width, then the fonts go down to their
minimum sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.card.fonts import Weight, font
from bot.card.wrap import wrap, wrap_balanced

WIDTH = 720
# Height over width at most this, so the card is shown as wide as the bubble.
MAX_ASPECT = 1.25
MAX_HEIGHT = math.floor(WIDTH * MAX_ASPECT)
# The width a 360 dp phone's chat bubble shows the card at, and the smallest font sizes there.
DISPLAY_WIDTH = 250
TIER_MIN_DISPLAY_PX = 11
TEXT_MIN_DISPLAY_PX = 9

MARGIN = 32
CONTENT = WIDTH - 2 * MARGIN
# The card shows the top three conditions; the text result lists more.
MAX_ROWS = 3
# The photo's side, largest first: each next one leaves the conditions more width.
PHOTO_SIDES = (256, 208, 160)
PHOTO_GAP = 24

ICON_SIZE = 72
ICON_GAP = 20
BAR_HEIGHT = 12

Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]


def display_px(size: float, width: int = WIDTH) -> float:
    """How many pixels high a font of `size` is when the card is shown DISPLAY_WIDTH wide."""
    return size * DISPLAY_WIDTH / width


def min_size(display: float, width: int = WIDTH) -> int:
    """The smallest font size that is at least `display` px when shown DISPLAY_WIDTH wide."""
    return math.ceil(display * width / DISPLAY_WIDTH)


@dataclass(frozen=True, slots=True)
class Sizes:
    """Font sizes and the space between things, in card pixels."""

    tier: int
    name: int
    small: int
    # Above and below the tier's label; between the band, the body and the footer; below each
    # condition's bar.
    band_padding: int
    gap: int
    row_gap: int


# As large as the card's height allows for everyday texts; COMPACT only for the longest ones.
PREFERRED = Sizes(tier=40, name=30, small=26, band_padding=26, gap=28, row_gap=20)
COMPACT = Sizes(
    tier=min_size(TIER_MIN_DISPLAY_PX),
    name=min_size(TEXT_MIN_DISPLAY_PX),
    small=min_size(TEXT_MIN_DISPLAY_PX),
    band_padding=18,
    gap=20,
    row_gap=14,
)


class Tier(StrEnum):
    # The same values as bot.domain.advice.AdviceTier, so either can be passed.
    URGENT_CARE = "urgent_care"
    WITHIN_DAYS = "within_days"
    WITHIN_2_WEEKS = "within_2_weeks"
    IF_NO_IMPROVEMENT = "if_no_improvement"
    SELF_CARE = "self_care"


class Ink(StrEnum):
    TEXT = "text"
    MUTED = "muted"
    # The colour of texts and the icon on the tier's band (render.TIER_INK).
    ON_TIER = "on_tier"


class Surface(StrEnum):
    """What a text is drawn on, for its contrast."""

    CARD = "card"
    TIER = "tier"


@dataclass(frozen=True, slots=True)
class CardRow:
    """One condition: its name in the person's language and its AI match score (0..1).

    `percent` is the score as the person's language writes it (Spanish "27 %"); without it the
    card writes "27%".
    """

    name: str
    probability: float
    percent: str | None = None

    @property
    def percent_text(self) -> str:
        return self.percent if self.percent is not None else percent_label(self.probability)


@dataclass(frozen=True, slots=True)
class CardText:
    """Everything the card says, already in the person's language."""

    # bot.domain.advice.AdviceTier's value, and what to do and when ("See a dermatologist
    # within 2 weeks").
    tier: str
    tier_label: str
    # Above the conditions: what the numbers are ("Possible matches (AI match score)").
    heading: str
    rows: Sequence[CardRow]
    # Shown instead of the conditions when the AI named none.
    nothing: str
    # The check's date, short id and the patient's code.
    footer: str
    disclaimer: str


@dataclass(frozen=True, slots=True)
class PlacedText:
    text: str
    # Top-left of the line box ("la" anchor: left, ascender).
    x: int
    y: int
    weight: Weight
    size: int
    ink: Ink
    # Right-aligned texts (scores) are placed by their right edge.
    align_right: bool = False

    @property
    def surface(self) -> Surface:
        return Surface.TIER if self.ink is Ink.ON_TIER else Surface.CARD

    @property
    def advance_box(self) -> Box:
        """The box the text occupies by its advance width: what wrapping keeps in the margins."""
        face = font(self.weight, self.size)
        length = round(face.getlength(self.text))
        ascent, descent = face.getmetrics()
        left = self.x - length if self.align_right else self.x
        return left, self.y, left + length, self.y + ascent + descent

    @property
    def ink_box(self) -> Box:
        """The box of the drawn pixels."""
        face = font(self.weight, self.size)
        anchor = "ra" if self.align_right else "la"
        left, top, right, bottom = face.getbbox(self.text, anchor=anchor)
        return self.x + int(left), self.y + int(top), self.x + int(right), self.y + int(bottom)


@dataclass(frozen=True, slots=True)
class Bar:
    box: Box
    fraction: float


@dataclass(frozen=True, slots=True)
class CardLayout:
    width: int
    height: int
    sizes: Sizes
    band_box: Box
    icon_box: Box
    photo_box: Box
    texts: tuple[PlacedText, ...]
    bars: tuple[Bar, ...]
    # The thin line above the footer.
    rule_y: int
    tier: Tier
    # Which texts are which, for checks of what is on the card.
    tier_lines: tuple[PlacedText, ...]
    name_lines: tuple[tuple[PlacedText, ...], ...]
    footer_lines: tuple[PlacedText, ...]


def percent_label(probability: float) -> str:
    """Whole percent as a person reads it; never "0%" or "100%" for a value that is neither."""
    value = max(0.0, min(1.0, probability)) * 100
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{value:.0f}%"


def _line_height(weight: Weight, size: int) -> int:
    ascent, descent = font(weight, size).getmetrics()
    # Noto CJK's line box is tall (1.45 em); 1.3 em keeps wrapped lines together.
    return min(ascent + descent, round(size * 1.3))


def _lines(
    text: str,
    x: int,
    y: int,
    width: int,
    weight: Weight,
    size: int,
    ink: Ink,
    *,
    balanced: bool = False,
) -> tuple[list[PlacedText], int]:
    """Wrapped lines from (x, y) and the y below them; `balanced`: lines as even as they can
    be (for headings)."""
    placed = []
    step = _line_height(weight, size)
    breaking = wrap_balanced if balanced else wrap
    for line in breaking(text, font(weight, size), width):
        placed.append(PlacedText(line, x, y, weight, size, ink))
        y += step
    return placed, y


def layout_card(card: CardText, *, largest_photo: int = PHOTO_SIDES[0]) -> CardLayout:
    """The layout with the largest photo (up to `largest_photo`) and fonts whose card is at most
    MAX_HEIGHT high; the most compact one when none is (only texts far longer than any
    catalog's or the API's)."""
    Tier(card.tier)  # ValueError for an unknown tier, before any work.
    sides = [side for side in PHOTO_SIDES if side <= largest_photo] or [PHOTO_SIDES[-1]]
    layout: CardLayout | None = None
    for sizes in (PREFERRED, COMPACT):
        for side in sides:
            layout = layout_with(card, sizes=sizes, photo_side=side)
            if layout.height <= MAX_HEIGHT:
                return layout
    assert layout is not None
    return layout


def layout_with(card: CardText, *, sizes: Sizes, photo_side: int) -> CardLayout:
    tier = Tier(card.tier)
    texts: list[PlacedText] = []

    # The band: icon and tier label, both centred on the band's middle.
    label_left = MARGIN + ICON_SIZE + ICON_GAP
    label_width = WIDTH - MARGIN - label_left
    tier_step = _line_height(Weight.BOLD, sizes.tier)
    label_count = len(wrap(card.tier_label, font(Weight.BOLD, sizes.tier), label_width))
    inner = max(ICON_SIZE, label_count * tier_step)
    band_bottom = inner + 2 * sizes.band_padding
    tier_lines, _ = _lines(
        card.tier_label,
        label_left,
        sizes.band_padding + (inner - label_count * tier_step) // 2,
        label_width,
        Weight.BOLD,
        sizes.tier,
        Ink.ON_TIER,
        balanced=True,
    )
    texts += tier_lines
    icon_top = sizes.band_padding + (inner - ICON_SIZE) // 2
    icon_box = (MARGIN, icon_top, MARGIN + ICON_SIZE, icon_top + ICON_SIZE)

    # The photo on the left, the conditions beside it.
    top = band_bottom + sizes.gap
    photo_box = (MARGIN, top, MARGIN + photo_side, top + photo_side)
    column = MARGIN + photo_side + PHOTO_GAP
    right = WIDTH - MARGIN
    placed, y = _lines(
        card.heading,
        column,
        top,
        right - column,
        Weight.BOLD,
        sizes.small,
        Ink.MUTED,
        balanced=True,
    )
    texts += placed
    y += 12

    rows = list(card.rows[:MAX_ROWS])
    score_face = font(Weight.BOLD, sizes.name)
    candidates = ("100%", *(row.percent_text for row in rows))
    score_width = max(round(score_face.getlength(p)) for p in candidates) + 14
    bars: list[Bar] = []
    names: list[tuple[PlacedText, ...]] = []
    for row in rows:
        texts.append(
            PlacedText(
                row.percent_text, right, y, Weight.BOLD, sizes.name, Ink.TEXT, align_right=True
            )
        )
        placed, y = _lines(
            row.name, column, y, right - column - score_width, Weight.REGULAR, sizes.name, Ink.TEXT
        )
        texts += placed
        names.append(tuple(placed))
        # Clear of the descenders (p, g, y) of the name's last line.
        y += 8
        bars.append(Bar((column, y, right, y + BAR_HEIGHT), max(0.0, min(1.0, row.probability))))
        y += BAR_HEIGHT + sizes.row_gap
    if not rows:
        placed, y = _lines(
            card.nothing, column, y, right - column, Weight.REGULAR, sizes.name, Ink.TEXT
        )
        texts += placed

    y = max(y, photo_box[3]) + sizes.gap
    rule_y = y
    y += sizes.gap - 10
    footer_lines, y = _lines(card.footer, MARGIN, y, CONTENT, Weight.BOLD, sizes.small, Ink.MUTED)
    texts += footer_lines
    y += 6
    placed, y = _lines(card.disclaimer, MARGIN, y, CONTENT, Weight.REGULAR, sizes.small, Ink.MUTED)
    texts += placed

    return CardLayout(
        width=WIDTH,
        height=y + MARGIN - 8,
        sizes=sizes,
        band_box=(0, 0, WIDTH, band_bottom),
        icon_box=icon_box,
        photo_box=photo_box,
        texts=tuple(texts),
        bars=tuple(bars),
        rule_y=rule_y,
        tier=tier,
        tier_lines=tuple(tier_lines),
        name_lines=tuple(names),
        footer_lines=tuple(footer_lines),
    )
