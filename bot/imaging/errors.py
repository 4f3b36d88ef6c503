"""Why a photo was refused, in words a person understands.

`PhotoRejected.message` is one kind English sentence. The limit values are attributes too, so a
conversation in another language can say the same thing in its own words.
"""

from __future__ import annotations

from enum import StrEnum

ACCEPTED_FORMATS_TEXT = "JPEG, PNG, WebP, HEIC or TIFF"


class RejectionReason(StrEnum):
    EMPTY = "empty"
    TOO_MANY_BYTES = "too_many_bytes"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    ANIMATED = "animated"
    TOO_MANY_PIXELS = "too_many_pixels"
    CORRUPT = "corrupt"


class PhotoRejected(Exception):
    """A photo the bot will not send, with the reason and any limit that was exceeded."""

    def __init__(
        self,
        reason: RejectionReason,
        message: str,
        *,
        size_bytes: int | None = None,
        max_bytes: int | None = None,
        pixels: int | None = None,
        max_pixels: int | None = None,
        detected_format: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.size_bytes = size_bytes
        self.max_bytes = max_bytes
        self.pixels = pixels
        self.max_pixels = max_pixels
        self.detected_format = detected_format

    @classmethod
    def empty(cls) -> PhotoRejected:
        return cls(
            RejectionReason.EMPTY,
            "This file is empty. Please send the photo of the skin problem again.",
            size_bytes=0,
        )

    @classmethod
    def too_many_bytes(cls, size_bytes: int, max_bytes: int) -> PhotoRejected:
        return cls(
            RejectionReason.TOO_MANY_BYTES,
            f"This file is too large ({_megabytes(size_bytes)}; the limit is "
            f"{_megabytes(max_bytes)}). Please send it as a normal photo instead of a file, "
            "or send a smaller picture.",
            size_bytes=size_bytes,
            max_bytes=max_bytes,
        )

    @classmethod
    def not_an_image(cls) -> PhotoRejected:
        return cls(
            RejectionReason.NOT_AN_IMAGE,
            "This file is not a photo. Please send a picture of the skin problem "
            f"({ACCEPTED_FORMATS_TEXT}).",
        )

    @classmethod
    def unsupported_format(cls, detected_format: str) -> PhotoRejected:
        return cls(
            RejectionReason.UNSUPPORTED_FORMAT,
            f"This picture is in the {detected_format} format, which the bot cannot use. "
            f"Please send a photo of the skin problem ({ACCEPTED_FORMATS_TEXT}).",
            detected_format=detected_format,
        )

    @classmethod
    def animated(cls, detected_format: str) -> PhotoRejected:
        return cls(
            RejectionReason.ANIMATED,
            "This is an animation, not a still photo. Please send a single photo of the skin "
            "problem.",
            detected_format=detected_format,
        )

    @classmethod
    def too_many_pixels(cls, pixels: int | None, max_pixels: int) -> PhotoRejected:
        # None: Pillow's own bomb guard refused the file before its size could be read.
        size = f"{pixels / 1e6:.0f} megapixels; " if pixels is not None else ""
        return cls(
            RejectionReason.TOO_MANY_PIXELS,
            f"This picture has too many pixels ({size}the limit is "
            f"{max_pixels / 1e6:.0f} megapixels). Please send a normal phone photo or a "
            "smaller copy.",
            pixels=pixels,
            max_pixels=max_pixels,
        )

    @classmethod
    def corrupt(cls, detected_format: str | None = None) -> PhotoRejected:
        return cls(
            RejectionReason.CORRUPT,
            "This photo is damaged or incomplete and cannot be opened. Please send it again.",
            detected_format=detected_format,
        )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
