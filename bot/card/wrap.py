"""Line breaking measured with the real font, for Latin and Hangul."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import ImageFont

# Break after a hyphen or slash as well as at spaces: condition names like
# "Seborrheic keratosis/irritated" or "Post-inflammatory" otherwise leave ragged lines.
_PIECE = re.compile(r"[^\-/]*[\-/]|[^\-/]+")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    space_before: bool


def _tokens(paragraph: str) -> list[_Token]:
    tokens: list[_Token] = []
    for word in paragraph.split():
        for index, piece in enumerate(_PIECE.findall(word)):
            tokens.append(_Token(piece, space_before=index == 0 and bool(tokens)))
    return tokens


def _split_long(word: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """A word wider than a line, cut per character (Korean allows this anywhere)."""
    lines: list[str] = []
    current = ""
    for char in word:
        if current and face.getlength(current + char) > width:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    return lines


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Lines of `text` no wider than `width` pixels: at spaces, hyphens or slashes, and inside
    a word only when the word alone is wider than a line. Newlines are kept as breaks."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for token in _tokens(paragraph):
            candidate = current + (" " if token.space_before and current else "") + token.text
            if not current or face.getlength(candidate) <= width:
                if not current and face.getlength(token.text) > width:
                    *full, current = _split_long(token.text, face, width)
                    lines.extend(full)
                else:
                    current = candidate
                continue
            lines.append(current)
            if face.getlength(token.text) > width:
                *full, current = _split_long(token.text, face, width)
                lines.extend(full)
            else:
                current = token.text
        lines.append(current)
    return lines


def wrap_balanced(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Like `wrap`, in as many lines, but as even as they can be: a heading reads "See a
    dermatologist / within 2 weeks", not "See a dermatologist within / 2 weeks"."""
    lines = wrap(text, face, width)
    if len(lines) < 2:
        return lines
    # Never narrower than a word that fits: it would be cut where the plain wrap keeps it whole.
    words = [face.getlength(word) for word in text.split()]
    low = max([w for w in words if w <= width] + [0.0])
    high = float(width)
    # The narrowest width (to a pixel) that needs no more lines.
    while high - low > 1:
        middle = (low + high) / 2
        if len(wrap(text, face, middle)) <= len(lines):
            high = middle
        else:
            low = middle
    return wrap(text, face, high)
