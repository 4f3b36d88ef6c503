"""Which image format a file is, from its first bytes: never from its name or MIME type.

People rename files and Telegram's documents carry whatever name the sender's phone chose; the
magic numbers are the only thing that tells what decoder will actually run.
"""

from __future__ import annotations

from enum import StrEnum

# HEIF brands that libheif decodes with HEVC (iPhone photos are `heic`; `mif1`/`msf1` are the
# generic still-image/sequence brands many Android phones write).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


class ImageFormat(StrEnum):
    """Formats the bot accepts; the value is Pillow's format name."""

    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WEBP"
    HEIF = "HEIF"
    TIFF = "TIFF"


def sniff(head: bytes) -> ImageFormat | str | None:
    """The accepted format, or the name of a recognised but refused image format, or None.

    A name (str) means "an image, but not one we take", so the person hears a different sentence
    than for a PDF or a text file.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageFormat.TIFF
    if head[4:8] == b"ftyp":
        major = head[8:12]
        if major in _AVIF_BRANDS:
            return "AVIF"
        if major in _HEIF_BRANDS:
            return ImageFormat.HEIF
        return None  # MP4, MOV and other ISO-BMFF files: videos, not photos
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM":
        return "BMP"
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return "BigTIFF"
    if head[:4] == b"8BPS":
        return "Photoshop"
    if head[:4] == b"\x00\x00\x01\x00":
        return "icon"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")):
        return "JPEG XL"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "JPEG 2000"
    return None
