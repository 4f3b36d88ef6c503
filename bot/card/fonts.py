"""The card's shipped font: loaded lazily, and a check that it can draw a given text."""

from __future__ import annotations

import io
from enum import StrEnum
from functools import cache
from importlib import resources

from PIL import ImageFont

# A private-use code point no font maps: FreeType draws the font's .notdef box for it, the same
# box any missing character would get.
_SURELY_MISSING = "\U0010fffd"


class Weight(StrEnum):
    REGULAR = "Regular"
    BOLD = "Bold"


@cache
def _font_bytes(weight: Weight) -> bytes:
    # Read through importlib.resources so the card also works from a zipped install.
    path = resources.files("bot").joinpath("fonts", f"NotoSansKR-Subset-{weight.value}.otf")
    return path.read_bytes()


@cache
def font(weight: Weight, size: int) -> ImageFont.FreeTypeFont:
    # The basic layout engine: the same output with or without libraqm installed, and the
    # shipped scripts (Latin, precomposed Hangul) need no shaping.
    return ImageFont.truetype(
        io.BytesIO(_font_bytes(weight)), size, layout_engine=ImageFont.Layout.BASIC
    )


def _glyph_signature(face: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = face.getmask(char)
    return mask.size, bytes(mask)


def missing_glyphs(text: str, weight: Weight = Weight.REGULAR) -> set[str]:
    """The characters of `text` the shipped font would draw as its .notdef box."""
    face = font(weight, 32)
    notdef = _glyph_signature(face, _SURELY_MISSING)
    return {
        char for char in set(text) if not char.isspace() and _glyph_signature(face, char) == notdef
    }
