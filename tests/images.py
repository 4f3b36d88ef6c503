"""Synthetic photos for tests and benchmarks, made with Pillow only (no numpy, no files).

`make_skin_photo` draws something a skin classifier would be sent: uneven skin tone, pores and
sensor noise, a darker lesion with an irregular border, a few hairs. It is deterministic for a
given seed, and its sharp, blurred, dark and overexposed versions are what the quality
thresholds in bot/imaging/quality.py were calibrated on.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zlib

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

SKIN_TONES = [(232, 190, 160), (214, 164, 128), (188, 134, 100), (150, 100, 70), (105, 70, 50)]

ORIENTATION_TAG = 0x0112
GPS_IFD_TAG = 0x8825
MAKER_NOTE_TAG = 0x927C
EXIF_IFD_TAG = 0x8769


def make_skin_photo(
    width: int = 1024, height: int = 768, seed: int = 0, *, noise: float = 14.0
) -> Image.Image:
    """An RGB photo of skin with a lesion slightly off centre."""
    rng = random.Random(seed)
    tone = SKIN_TONES[seed % len(SKIN_TONES)]
    size = (width, height)

    # Blotchy tone: coarse noise enlarged smoothly, plus fine pores/sensor noise.
    coarse = Image.effect_noise((max(2, width // 32), max(2, height // 32)), 16).resize(
        size, Image.Resampling.BICUBIC
    )
    # Pores: noise at a third of the resolution, enlarged, gives 2-4 px soft dots.
    pores = Image.effect_noise((max(2, width // 3), max(2, height // 3)), 22).resize(
        size, Image.Resampling.BILINEAR
    )
    grain = Image.effect_noise(size, noise)
    texture = ImageChops.add(ImageChops.add(coarse, pores, scale=2.0), grain, scale=2.0)

    def tinted(rgb: tuple[int, int, int], gain: float) -> Image.Image:
        bands = [
            texture.point(lambda v, c=c: max(0, min(255, round(c + (v - 128) * gain)))) for c in rgb
        ]
        return Image.merge("RGB", bands)

    photo = tinted(tone, 1.4)
    lesion_colour = (
        int(tone[0] * 0.55),
        int(tone[1] * 0.42),
        int(tone[2] * 0.38),
    )
    lesion = tinted(lesion_colour, 1.0)

    # Irregular border: a polygon whose radius wanders around a circle.
    mask = Image.new("L", size, 0)
    cx = width * (0.5 + rng.uniform(-0.06, 0.06))
    cy = height * (0.5 + rng.uniform(-0.06, 0.06))
    base_r = min(width, height) * rng.uniform(0.12, 0.18)
    points = []
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    for i in range(72):
        a = 2 * math.pi * i / 72
        r = base_r * (
            1
            + 0.18 * math.sin(3 * a + phases[0])
            + 0.10 * math.sin(5 * a + phases[1])
            + 0.06 * math.sin(11 * a + phases[2])
        )
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    ImageDraw.Draw(mask).polygon(points, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, min(width, height) / 400)))
    photo.paste(lesion, mask=mask)

    draw = ImageDraw.Draw(photo)
    hair = (int(tone[0] * 0.3), int(tone[1] * 0.25), int(tone[2] * 0.22))
    for _ in range(rng.randint(4, 8)):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        angle = rng.uniform(0, math.pi)
        length = min(width, height) * rng.uniform(0.2, 0.5)
        x1, y1 = x0 + length * math.cos(angle), y0 + length * math.sin(angle)
        draw.line([(x0, y0), (x1, y1)], fill=hair, width=max(1, min(width, height) // 500))
    return photo


def blurred(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def darkened(image: Image.Image, factor: float = 0.25) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def overexposed(image: Image.Image, factor: float = 1.8) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def exif_bytes(
    *, orientation: int | None = None, gps: bool = False, maker_note: bool = False
) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    if gps:
        exif[GPS_IFD_TAG] = {
            1: "N",
            2: (52.0, 31.0, 12.5),
            3: "E",
            4: (13.0, 24.0, 36.0),
        }
    if maker_note:
        exif[EXIF_IFD_TAG] = {MAKER_NOTE_TAG: b"SECRET-SERIAL-0042" * 4}
    return exif.tobytes()


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg_bytes(
    image: Image.Image,
    *,
    exif_orientation: int | None = None,
    gps: bool = False,
    maker_note: bool = False,
    quality: int = 90,
    **params: object,
) -> bytes:
    if exif_orientation is not None or gps or maker_note:
        params["exif"] = exif_bytes(orientation=exif_orientation, gps=gps, maker_note=maker_note)
    return encode(image, "JPEG", quality=quality, **params)


def png_bytes(image: Image.Image, **params: object) -> bytes:
    return encode(image, "PNG", **params)


def bomb_png(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG that declares width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    # One compressed row of zeros; the rest would be produced by "decompressing" a bomb.
    idat = zlib.compress(b"\x00" * (1 + 3 * min(width, 1024)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def animated_gif(frames: int = 3, size: tuple[int, int] = (64, 48)) -> bytes:
    images = [Image.new("RGB", size, (40 * i, 100, 200 - 40 * i)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


def jpeg_segments(data: bytes) -> list[int]:
    """The marker bytes (0xE0 for APP0, 0xE1 for APP1/EXIF/XMP, 0xE2 for ICC, ...) before SOS."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers = []
    i = 2
    while i + 4 <= len(data):
        assert data[i] == 0xFF, f"bad marker at {i}"
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the metadata is all before it
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        markers.append(marker)
        i += 2 + length
    return markers


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", "not a WebP"
    chunks = []
    i = 12
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        length = struct.unpack("<I", data[i + 4 : i + 8])[0]
        chunks.append(kind)
        i += 8 + length + (length & 1)
    return chunks


def large_png(
    width: int,
    height: int,
    *,
    bit_depth: int = 8,
    colour: str = "RGB",
    seed: int = 0,
) -> bytes:
    """A PNG of `width` x `height` that decodes to full size but compresses to a few hundred KB.

    A skin-toned vertical gradient with a darker ellipse in the middle, written row by row with
    PNG's "Sub" filter, so that every row is almost all zeros once filtered. For memory tests:
    Pillow would need the whole image in memory to write it, this does not. `colour` is "RGB",
    "RGBA", "L" or "LA"; `bit_depth` 8 or 16. Alpha is opaque inside the ellipse and
    half-transparent outside it.
    """
    colour_types = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
    if colour not in colour_types or bit_depth not in (8, 16):
        raise ValueError("colour must be L, LA, RGB or RGBA and bit_depth 8 or 16")
    channels = len(colour)
    sample_bytes = bit_depth // 8
    pixel_bytes = channels * sample_bytes
    top = 0xFFFF if bit_depth == 16 else 0xFF
    tone = SKIN_TONES[seed % len(SKIN_TONES)]

    def pixel(rgb: tuple[float, float, float], alpha: float) -> bytes:
        grey = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
        values = [grey] if colour.startswith("L") else list(rgb)
        if colour.endswith("A"):
            values.append(alpha)
        return b"".join(round(v / 255 * top).to_bytes(sample_bytes, "big") for v in values)

    def minus(a: bytes, b: bytes) -> bytes:  # the Sub filter's byte-wise difference
        return bytes((x - y) & 0xFF for x, y in zip(a, b, strict=True))

    cx, cy = width / 2, height / 2
    rx, ry = width * 0.18, height * 0.14
    compressor = zlib.compressobj(9)
    chunks = []
    for y in range(height):
        shade = 0.85 + 0.15 * y / max(1, height - 1)
        skin = pixel((tone[0] * shade, tone[1] * shade, tone[2] * shade), 128)
        row = bytearray(1 + width * pixel_bytes)
        row[0] = 1  # Sub: each byte minus the byte one pixel to the left
        row[1 : 1 + pixel_bytes] = skin
        dy = (y - cy) / ry
        if abs(dy) < 1:
            half = rx * math.sqrt(1 - dy * dy)
            x0, x1 = max(1, int(cx - half)), min(width - 1, int(cx + half))
            lesion = pixel((tone[0] * 0.5, tone[1] * 0.4, tone[2] * 0.35), 255)
            row[1 + x0 * pixel_bytes : 1 + (x0 + 1) * pixel_bytes] = minus(lesion, skin)
            row[1 + x1 * pixel_bytes : 1 + (x1 + 1) * pixel_bytes] = minus(skin, lesion)
        chunks.append(compressor.compress(bytes(row)))
    chunks.append(compressor.flush())

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_types[colour], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(chunks))
        + chunk(b"IEND", b"")
    )
