"""Drawing the result card and encoding it as a small PNG."""

from __future__ import annotations

import asyncio
import io
import math
from concurrent.futures import Executor
from functools import partial

from PIL import Image, ImageDraw, ImageOps

from bot.card.colours import (
    BACKGROUND,
    BAR_FILL,
    BAR_TRACK,
    RULE,
    TIER_COLOUR,
    TIER_INK,
    ink,
)
from bot.card.fonts import font
from bot.card.layout import PHOTO_SIDES, RGB, Box, CardLayout, CardText, Tier, layout_card

PHOTO_RADIUS = 12
# The photo makes most of the PNG's bytes; 256 shared colours with dithering make the card several
# times smaller than in true colour (tests/perf/bench_card.py --choices; docs/result-card.md).
PALETTE_COLOURS = 256
# A card should reach a phone on a slow connection within seconds. Photos with much fine texture
# compress badly; for those the photo is drawn smaller rather than the card sent heavier.
MAX_PNG_BYTES = 150_000


def decode_photo(photo: bytes | Image.Image) -> Image.Image:
    """The photo upright, in RGB, cropped to its central square."""
    image: Image.Image
    if isinstance(photo, bytes):
        image = Image.open(io.BytesIO(photo))
        if image.format == "JPEG":
            # Decode at a reduced scale when the JPEG is much larger than the card needs.
            image.draft("RGB", (PHOTO_SIDES[0], PHOTO_SIDES[0]))
    else:
        image = photo
    image = ImageOps.exif_transpose(image).convert("RGB")
    side = min(image.size)
    return ImageOps.fit(image, (side, side))


def _paste_photo(card: Image.Image, photo: Image.Image, box: Box) -> None:
    side = box[2] - box[0]
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, side - 1, side - 1), PHOTO_RADIUS, fill=255)
    if photo.size != (side, side):
        photo = photo.resize((side, side), Image.Resampling.LANCZOS)
    card.paste(photo, box[:2], mask)


ICON_SUPERSAMPLE = 4


def _regular(
    cx: float, cy: float, radius: float, sides: int, turn: float
) -> list[tuple[float, float]]:
    return [
        (
            cx + radius * math.cos(turn + 2 * math.pi * k / sides),
            cy + radius * math.sin(turn + 2 * math.pi * k / sides),
        )
        for k in range(sides)
    ]


def _exclamation(
    draw: ImageDraw.ImageDraw, cx: float, top: float, bottom: float, size: int, colour: RGB
) -> None:
    stem = size * 0.06
    dot_top = bottom - 2 * stem
    draw.rounded_rectangle((cx - stem, top, cx + stem, dot_top - stem * 1.6), stem, fill=colour)
    draw.ellipse((cx - stem, dot_top, cx + stem, bottom), colour)


def _draw_icon_shape(
    draw: ImageDraw.ImageDraw, tier: Tier, size: int, shape: RGB, mark: RGB
) -> None:
    """A shape per tier, from the most alarming to the calmest, so the tier reads without
    colour: a stop sign (urgent care now), a warning triangle (within days), a diamond (within
    2 weeks), each with "!"; a rounded square with a clock (if no better in weeks); a circle
    with a tick (self-care)."""
    c = size / 2
    if tier is Tier.URGENT_CARE:
        draw.polygon(_regular(c, c, size * 0.52, 8, math.pi / 8), fill=shape)
        _exclamation(draw, c, size * 0.2, size * 0.8, size, mark)
    elif tier is Tier.WITHIN_DAYS:
        draw.polygon([(c, size * 0.03), (size, size * 0.94), (0, size * 0.94)], fill=shape)
        _exclamation(draw, c, size * 0.32, size * 0.84, size, mark)
    elif tier is Tier.WITHIN_2_WEEKS:
        draw.polygon([(c, 0), (size, c), (c, size), (0, c)], fill=shape)
        _exclamation(draw, c, size * 0.22, size * 0.78, size, mark)
    elif tier is Tier.IF_NO_IMPROVEMENT:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), size * 0.2, fill=shape)
        ring = size * 0.3
        draw.ellipse(
            (c - ring, c - ring, c + ring, c + ring), outline=mark, width=round(size * 0.07)
        )
        hand = round(size * 0.07)
        draw.line(
            [(c, c - ring * 0.65), (c, c), (c + ring * 0.55, c)],
            fill=mark,
            width=hand,
            joint="curve",
        )
    else:
        draw.ellipse((0, 0, size - 1, size - 1), fill=shape)
        points = [
            (size * 0.27, size * 0.52),
            (size * 0.43, size * 0.68),
            (size * 0.74, size * 0.35),
        ]
        draw.line(points, fill=mark, width=round(size * 0.11), joint="curve")


def _paste_icon(card: Image.Image, tier: Tier, box: Box) -> None:
    # Drawn large and scaled down: Pillow's shapes have no anti-aliasing of their own.
    side = box[2] - box[0]
    big = side * ICON_SUPERSAMPLE
    band = TIER_COLOUR[tier]
    icon = Image.new("RGBA", (big, big), (*band, 0))
    _draw_icon_shape(ImageDraw.Draw(icon), tier, big, TIER_INK[tier], band)
    icon = icon.resize((side, side), Image.Resampling.LANCZOS)
    card.paste(icon, box[:2], icon)


def draw_card(photo: Image.Image, layout: CardLayout) -> Image.Image:
    """The card in true colour; `photo` as decode_photo returns it."""
    card = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.rectangle(layout.band_box, fill=TIER_COLOUR[layout.tier])
    _paste_icon(card, layout.tier, layout.icon_box)
    _paste_photo(card, photo, layout.photo_box)

    for bar in layout.bars:
        left, top, right, bottom = bar.box
        radius = (bottom - top) // 2
        draw.rounded_rectangle(bar.box, radius, fill=BAR_TRACK)
        if bar.fraction > 0:
            # Even "<1%" gets a visible sliver, so a bar never looks like a missing value.
            filled = max(round((right - left) * bar.fraction), bottom - top)
            draw.rounded_rectangle((left, top, left + filled, bottom), radius, fill=BAR_FILL)
    draw.line((layout.band_box[0], layout.rule_y, layout.width, layout.rule_y), fill=RULE, width=2)

    for text in layout.texts:
        draw.text(
            (text.x, text.y),
            text.text,
            fill=ink(text.ink, layout.tier),
            font=font(text.weight, text.size),
            anchor="ra" if text.align_right else "la",
        )
    return card


def encode_png(card: Image.Image) -> bytes:
    # Fast octree: far faster than median cut and fewer bytes, with no visible banding on skin
    # photos (tests/perf/bench_card.py --choices).
    paletted = card.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    # zlib level 6: a few percent larger than optimize=True in a fraction of its time (same
    # benchmark).
    paletted.save(out, "PNG", compress_level=6)
    return out.getvalue()


def render_card(photo: bytes | Image.Image, card: CardText, *, language: str) -> bytes:
    """The result card as PNG bytes: the tier band, the analysed photo beside the top
    conditions with their AI match scores, the footer and the disclaimer.

    `language` is the person's language code (e.g. "en", "ko", "es"); the texts must already be
    in it. Raises ValueError for an unknown advice tier."""
    del language  # Wrapping rules are the same for the supported languages.
    square = decode_photo(photo)
    png = b""
    for largest in PHOTO_SIDES:
        png = encode_png(draw_card(square, layout_card(card, largest_photo=largest)))
        if len(png) <= MAX_PNG_BYTES:
            break
    return png


async def render_card_async(
    photo: bytes | Image.Image,
    card: CardText,
    *,
    language: str,
    executor: Executor | None = None,
) -> bytes:
    """render_card in a worker thread (or `executor`), keeping the event loop free."""
    job = partial(render_card, photo, card, language=language)
    if executor is None:
        return await asyncio.to_thread(job)
    return await asyncio.get_running_loop().run_in_executor(executor, job)
