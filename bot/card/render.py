"""Drawing the result card and encoding it as a small PNG."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from concurrent.futures import Executor
from functools import partial

from PIL import Image, ImageDraw, ImageOps

from bot.card.fonts import font
from bot.card.layout import (
    PHOTO_SIDE,
    RGB,
    Box,
    CardAdvice,
    CardLayout,
    CardRow,
    Ink,
    Tier,
    layout_card,
)

BACKGROUND: RGB = (255, 255, 255)
INK: dict[Ink, RGB] = {Ink.TEXT: (26, 26, 26), Ink.MUTED: (84, 84, 84)}
BAR_TRACK: RGB = (228, 233, 238)
# Okabe-Ito blue: neutral, so the bars do not compete with the advice colours.
BAR_FILL: RGB = (0, 114, 178)
# Okabe-Ito vermillion, orange and bluish green stay distinguishable with the common colour
# vision deficiencies; the word and the icon's shape carry the tier as well.
TIER_COLOUR: dict[Tier, RGB] = {
    Tier.URGENT_CARE: (190, 30, 45),
    Tier.WITHIN_DAYS: (213, 94, 0),
    Tier.WITHIN_2_WEEKS: (230, 159, 0),
    Tier.IF_NO_IMPROVEMENT: (0, 114, 178),
    Tier.SELF_CARE: (0, 158, 115),
}
PHOTO_RADIUS = 16
# The photo makes most of the PNG's bytes; 256 shared colours with dithering make the card several
# times smaller than in true colour (tests/perf/bench_card.py --choices; docs/result-card.md).
PALETTE_COLOURS = 256
# A card should reach a phone on a slow connection within seconds. Photos with much fine texture
# compress badly; for those the photo is drawn smaller rather than the card sent heavier.
MAX_PNG_BYTES = 150_000
FALLBACK_PHOTO_SIDES = (416, 320)


def _tint(colour: RGB, strength: float) -> RGB:
    r, g, b = colour
    return (
        round(255 + (r - 255) * strength),
        round(255 + (g - 255) * strength),
        round(255 + (b - 255) * strength),
    )


def decode_photo(photo: bytes | Image.Image) -> Image.Image:
    """The photo upright, in RGB, cropped to its central square."""
    image: Image.Image
    if isinstance(photo, bytes):
        image = Image.open(io.BytesIO(photo))
        if image.format == "JPEG":
            # Decode at a reduced scale when the JPEG is much larger than the card needs.
            image.draft("RGB", (PHOTO_SIDE, PHOTO_SIDE))
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


def _draw_icon_shape(draw: ImageDraw.ImageDraw, tier: Tier, size: int, colour: RGB) -> None:
    """A shape per tier, so the tier reads without colour: triangle with "!" (urgent), rounded
    square with a cross (see a doctor), circle with a tick (self-care)."""
    cx = size / 2
    white = BACKGROUND
    if tier in (Tier.URGENT_CARE, Tier.WITHIN_2_WEEKS):
        draw.polygon([(cx, size * 0.03), (size, size * 0.94), (0, size * 0.94)], fill=colour)
        stem = size * 0.06
        draw.rounded_rectangle((cx - stem, size * 0.32, cx + stem, size * 0.64), stem, fill=white)
        dot = size * 0.065
        draw.ellipse((cx - dot, size * 0.72, cx + dot, size * 0.72 + 2 * dot), white)
    elif tier is Tier.WITHIN_DAYS:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), size * 0.18, fill=colour)
        arm, half = size * 0.3, size * 0.08
        draw.rectangle((cx - arm, cx - half, cx + arm, cx + half), fill=white)
        draw.rectangle((cx - half, cx - arm, cx + half, cx + arm), fill=white)
    else:
        draw.ellipse((0, 0, size - 1, size - 1), fill=colour)
        points = [
            (size * 0.27, size * 0.52),
            (size * 0.43, size * 0.68),
            (size * 0.74, size * 0.35),
        ]
        draw.line(points, fill=white, width=round(size * 0.11), joint="curve")


def _paste_icon(card: Image.Image, tier: Tier, box: Box, colour: RGB) -> None:
    # Drawn large and scaled down: Pillow's shapes have no anti-aliasing of their own.
    side = box[2] - box[0]
    big = side * ICON_SUPERSAMPLE
    icon = Image.new("RGBA", (big, big), (*BACKGROUND, 0))
    _draw_icon_shape(ImageDraw.Draw(icon), tier, big, colour)
    icon = icon.resize((side, side), Image.Resampling.LANCZOS)
    card.paste(icon, box[:2], icon)


def draw_card(photo: Image.Image, layout: CardLayout) -> Image.Image:
    """The card in true colour; `photo` as decode_photo returns it."""
    card = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    _paste_photo(card, photo, layout.photo_box)
    draw = ImageDraw.Draw(card)

    for bar in layout.bars:
        left, top, right, bottom = bar.box
        radius = (bottom - top) // 2
        draw.rounded_rectangle(bar.box, radius, fill=BAR_TRACK)
        if bar.fraction > 0:
            # Even "<1%" gets a visible sliver, so a bar never looks like a missing value.
            filled = max(round((right - left) * bar.fraction), bottom - top)
            draw.rounded_rectangle((left, top, left + filled, bottom), radius, fill=BAR_FILL)

    colour = TIER_COLOUR[layout.tier]
    draw.rounded_rectangle(layout.advice_box, 18, fill=_tint(colour, 0.16), outline=colour, width=4)
    _paste_icon(card, layout.tier, layout.icon_box, colour)

    for text in layout.texts:
        draw.text(
            (text.x, text.y),
            text.text,
            fill=INK[text.ink],
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


def render_card(
    photo: bytes | Image.Image,
    rows: Sequence[CardRow],
    advice: CardAdvice,
    disclaimer: str,
    *,
    title: str,
    language: str,
) -> bytes:
    """The result card as PNG bytes: the analysed photo, up to five conditions as bars with
    percentages, the advice tier (colour, icon and word) and the disclaimer.

    `language` is the person's language code (e.g. "en", "ko", "es"); the texts must already be
    in it. Raises ValueError for an unknown advice tier."""
    del language  # Wrapping rules are the same for the supported languages.
    square = decode_photo(photo)
    png = b""
    for side in (PHOTO_SIDE, *FALLBACK_PHOTO_SIDES):
        layout = layout_card(rows, advice, disclaimer, title=title, photo_side=side)
        png = encode_png(draw_card(square, layout))
        if len(png) <= MAX_PNG_BYTES:
            break
    return png


async def render_card_async(
    photo: bytes | Image.Image,
    rows: Sequence[CardRow],
    advice: CardAdvice,
    disclaimer: str,
    *,
    title: str,
    language: str,
    executor: Executor | None = None,
) -> bytes:
    """render_card in a worker thread (or `executor`), keeping the event loop free."""
    job = partial(render_card, photo, rows, advice, disclaimer, title=title, language=language)
    if executor is None:
        return await asyncio.to_thread(job)
    return await asyncio.get_running_loop().run_in_executor(executor, job)
