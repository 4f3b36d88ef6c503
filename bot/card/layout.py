"""Where everything on the result card goes, computed before anything is drawn.

The card is 720 px wide: shown 360 px wide on a phone (2x), its smallest text (28 px) is 14 CSS
px. Every text is wrapped with the real font so nothing is cut or runs off the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.card.fonts import Weight, font
from bot.card.wrap import wrap

WIDTH = 720
MARGIN = 32
CONTENT = WIDTH - 2 * MARGIN
# The prepared JPEG the API receives is 512 px: drawn 1:1, it stays sharp (256 CSS px wide).
PHOTO_SIDE = 512
MAX_ROWS = 5

TITLE_SIZE = 40
ROW_SIZE = 32
ADVICE_SIZE = 34
DISCLAIMER_SIZE = 28

BAR_HEIGHT = 22
ICON_SIZE = 64
ADVICE_PADDING = 24

Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]


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


@dataclass(frozen=True, slots=True)
class CardRow:
    """One condition: its name in the person's language and its probability (0..1).

    `percent` is the probability as the person's language writes it (Spanish "27 %"); without
    it the card writes "27%".
    """

    name: str
    probability: float
    percent: str | None = None

    @property
    def percent_text(self) -> str:
        return self.percent if self.percent is not None else percent_label(self.probability)


@dataclass(frozen=True, slots=True)
class CardAdvice:
    """The advice tier (see bot.domain.advice.AdviceTier) and its word in the person's language."""

    tier: str
    label: str


@dataclass(frozen=True, slots=True)
class PlacedText:
    text: str
    # Top-left of the line box ("la" anchor: left, ascender).
    x: int
    y: int
    weight: Weight
    size: int
    ink: Ink
    # Right-aligned texts (percentages) are placed by their right edge.
    align_right: bool = False

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
    photo_box: Box
    texts: tuple[PlacedText, ...]
    bars: tuple[Bar, ...]
    advice_box: Box
    icon_box: Box
    tier: Tier
    # Which texts are the advice label's lines, for checks that the word is on the card.
    label_lines: tuple[PlacedText, ...]


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
    text: str, x: int, y: int, width: int, weight: Weight, size: int, ink: Ink
) -> tuple[list[PlacedText], int]:
    """Wrapped lines from (x, y) and the y below them."""
    placed = []
    step = _line_height(weight, size)
    for line in wrap(text, font(weight, size), width):
        placed.append(PlacedText(line, x, y, weight, size, ink))
        y += step
    return placed, y


def layout_card(
    rows: Sequence[CardRow],
    advice: CardAdvice,
    disclaimer: str,
    *,
    title: str,
    photo_side: int = PHOTO_SIDE,
) -> CardLayout:
    tier = Tier(advice.tier)
    texts: list[PlacedText] = []
    bars: list[Bar] = []

    y = MARGIN
    photo_left = (WIDTH - photo_side) // 2
    photo_box = (photo_left, y, photo_left + photo_side, y + photo_side)
    y += photo_side + 28

    placed, y = _lines(title, MARGIN, y, CONTENT, Weight.BOLD, TITLE_SIZE, Ink.TEXT)
    texts += placed
    y += 16

    rank_face = font(Weight.BOLD, ROW_SIZE)
    rank_width = round(rank_face.getlength(f"{MAX_ROWS}.")) + 14
    candidates = ("100%", ">99%", "<1%", *(row.percent_text for row in rows[:MAX_ROWS]))
    percent_width = max(round(rank_face.getlength(p)) for p in candidates) + 20
    name_left = MARGIN + rank_width
    name_width = CONTENT - rank_width - percent_width
    for rank, row in enumerate(rows[:MAX_ROWS], start=1):
        texts.append(PlacedText(f"{rank}.", MARGIN, y, Weight.BOLD, ROW_SIZE, Ink.MUTED))
        texts.append(
            PlacedText(
                row.percent_text,
                WIDTH - MARGIN,
                y,
                Weight.BOLD,
                ROW_SIZE,
                Ink.TEXT,
                align_right=True,
            )
        )
        placed, y = _lines(row.name, name_left, y, name_width, Weight.REGULAR, ROW_SIZE, Ink.TEXT)
        texts += placed
        # Clear of the descenders (p, g, y) of the name's last line.
        y += 10
        bars.append(
            Bar((name_left, y, WIDTH - MARGIN, y + BAR_HEIGHT), max(0.0, min(1.0, row.probability)))
        )
        y += BAR_HEIGHT + 22

    y += 12
    label_left = MARGIN + ADVICE_PADDING + ICON_SIZE + 20
    label_width = WIDTH - MARGIN - ADVICE_PADDING - label_left
    label_face_height = _line_height(Weight.BOLD, ADVICE_SIZE)
    label_count = len(wrap(advice.label, font(Weight.BOLD, ADVICE_SIZE), label_width))
    inner = max(ICON_SIZE, label_count * label_face_height)
    box_top = y
    box_bottom = y + inner + 2 * ADVICE_PADDING
    label_top = box_top + ADVICE_PADDING + (inner - label_count * label_face_height) // 2
    labels, _ = _lines(
        advice.label, label_left, label_top, label_width, Weight.BOLD, ADVICE_SIZE, Ink.TEXT
    )
    texts += labels
    icon_top = box_top + ADVICE_PADDING + (inner - ICON_SIZE) // 2
    icon_left = MARGIN + ADVICE_PADDING
    icon_box = (icon_left, icon_top, icon_left + ICON_SIZE, icon_top + ICON_SIZE)
    advice_box = (MARGIN, box_top, WIDTH - MARGIN, box_bottom)
    y = box_bottom + 24

    placed, y = _lines(disclaimer, MARGIN, y, CONTENT, Weight.REGULAR, DISCLAIMER_SIZE, Ink.MUTED)
    texts += placed
    height = y + MARGIN - 8

    return CardLayout(
        width=WIDTH,
        height=height,
        photo_box=photo_box,
        texts=tuple(texts),
        bars=tuple(bars),
        advice_box=advice_box,
        icon_box=icon_box,
        tier=tier,
        label_lines=tuple(labels),
    )
