"""`prepare()`: from whatever a phone sent to the small, square, metadata-free image the API gets.

Order of the steps, and why:
1. Byte limit and empty file, before any parsing (cheapest, and a hostile file gets no parser).
2. The format from the magic bytes; only the matching Pillow plugin may open the file, so a file
   cannot pretend to be one format and be parsed as another.
3. `Image.open` reads only the header: the declared pixel count is checked against `max_pixels`
   before a single pixel is decoded (decompression bombs). Pillow's own `MAX_IMAGE_PIXELS`
   guard stays as it is (this module never changes Pillow's global state); if an operator sets
   `max_pixels` above Pillow's hard limit (2 x 89.5 MP), Pillow's `DecompressionBombError` is
   reported as the same TOO_MANY_PIXELS rejection.
4. JPEG is decoded at a reduced scale (`draft`: libjpeg's DCT scaling, 1/2 to 1/8) so that the
   square is still at least the output side; other formats are decoded once, in full. Before
   decoding, the bytes the decode will hold (`decoded_bytes`, known from the header and the
   draft) are reserved from the process's decode budget (bot/imaging/budget.py), and given
   back once the full frame is closed.
5. Centre square crop and resize in one `resize(box=...)` call (bicubic, which Pillow widens into
   an antialiasing filter when shrinking: faster than Lanczos for a 1280 px photo, and the
   difference is invisible at 512 px, see tests/perf/bench_imaging.py --choices; with
   `reducing_gap` so
   that large images are first box-reduced by an integer factor, which is fast and
   alias-free); the full decoded frame is closed straight after, so at most one full frame is
   ever held per photo (palette and 16-bit images are widened once before resizing).
6. Colour: alpha is composited on white, CMYK (including Adobe's inverted CMYK JPEGs, which
   Pillow decodes with the right sign) and 16-bit/float images become 8-bit RGB; an embedded
   ICC profile (iPhones write Display P3, print files CMYK profiles) is converted to sRGB and
   then dropped: the classifier was trained on web photos, which are sRGB, and the output
   carries no profile. Done on the small image, so it costs almost nothing.
7. EXIF orientation last: a centred square and its resize commute with all eight
   rotations/flips, so the small image is transposed instead of the big one. (HEIF decoders
   apply the rotation themselves and pillow-heif resets the tag, so nothing is applied twice.)
8. Encode as JPEG or WebP from a fresh image with empty `info`: no EXIF, GPS, maker notes,
   thumbnails, XMP, ICC or comments can be carried over.

Truncated files are refused as CORRUPT because Pillow refuses them, as long as nobody sets the
global `PIL.ImageFile.LOAD_TRUNCATED_IMAGES` (this project never does; a test would catch it).

Animated images (GIF, animated WebP, APNG) are refused: an animation is not a photo of a skin
problem, and its first frame is often a blank or a title card. Containers of several still
images (multi-page TIFF, HEIF collections) give their first/primary image, which is the photo.
GIF, BMP, AVIF and other image formats are refused as unsupported: phones do not take photos in
them, and GIF's 256 colours would destroy skin tones.
"""

from __future__ import annotations

import io
import logging
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageCms, ImageFile

from bot.imaging.budget import DecodeBudget
from bot.imaging.errors import PhotoRejected
from bot.imaging.formats import ImageFormat, sniff
from bot.imaging.quality import DEFAULT_THRESHOLDS, QualityReport, QualityThresholds, assess

log = logging.getLogger(__name__)

PhotoFormat = Literal["jpeg", "webp"]

# Defaults; bot/config.py has the same values (a test keeps them in step). The choice is
# measured by tests/perf/bench_imaging.py --choices and explained in docs/photos.md: 512 px
# keeps a margin over the classifier's 224-384 px inputs and the ~500 px lesion crops of the
# API's own examples, and WebP at quality 85 is much smaller than JPEG at nearly the same PSNR.
DEFAULT_SIDE = 512
DEFAULT_FORMAT: PhotoFormat = "webp"
DEFAULT_QUALITY = 85
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # what Telegram lets a bot download
DEFAULT_MAX_PIXELS = 50_000_000

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ENCODING = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "webp": ("WEBP", "image/webp", "webp"),
}
_WHITE = (255, 255, 255)
# Reduce by an integer factor first while the image is at least this many times the target.
_REDUCING_GAP = 3.0
# libjpeg's DCT scaling (1/2, 1/4, 1/8) keeps the square at least this many times the output
# side. 1, not Pillow's usual 2: on 12 MP phone photos, decoding at 1/4 instead of 1/2 and then
# shrinking to 512 px differs from a full decode by a PSNR far above the usual threshold of
# visibility (40 dB) and saves a good part of the time, because the scaled IDCT already is a
# proper low-pass filter (tests/perf/bench_imaging.py --choices; docs/photos.md).
_DRAFT_MARGIN = 1
# Frames' worth of memory a decoder holds at its peak, where it is more than the one frame
# Pillow fills: libwebp decodes into its own RGBA canvas, which is copied before Pillow gets the
# frame, and libheif into its own buffer. Measured as the peak RSS over the frame's size while
# decoding a 6000 x 6000 photo (tests/perf/bench_memory.py --decoders prints it).
_DECODER_FRAMES = {ImageFormat.WEBP: 4, ImageFormat.HEIF: 2}
# Pillow resamples these modes premultiplied: `resize` first converts the whole frame to "RGBa"
# or "La", a second full-size copy.
_PREMULTIPLIED = frozenset({"RGBA", "LA"})


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    """The bytes to upload and what is known about them."""

    data: bytes
    mime_type: str
    width: int
    height: int
    source_width: int  # as displayed, i.e. after the EXIF orientation
    source_height: int
    source_format: str  # "JPEG", "PNG", "WEBP", "HEIF" or "TIFF"
    quality: QualityReport

    @property
    def filename(self) -> str:
        extension = "jpg" if self.mime_type == "image/jpeg" else "webp"
        return f"photo.{extension}"


def prepare(
    data: bytes,
    *,
    side: int = DEFAULT_SIDE,
    fmt: PhotoFormat = DEFAULT_FORMAT,
    quality: int = DEFAULT_QUALITY,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    budget: DecodeBudget | None = None,
) -> PreparedPhoto:
    """Check, orient, square, shrink and re-encode one photo; raise PhotoRejected if unusable.

    Synchronous (CPU-bound): call it through PhotoPreparer from async code. With a `budget`,
    the decode waits until the bytes it will hold are free in it.
    """
    if fmt not in _ENCODING:
        raise ValueError(f"fmt must be 'jpeg' or 'webp', not {fmt!r}")
    if side < 1:
        raise ValueError("side must be positive")
    kind = _identify(data, max_bytes=max_bytes)
    if kind is ImageFormat.HEIF:
        _register_heif()

    image = _open(data, kind, max_pixels)
    try:
        source_size = image.size
        if kind is ImageFormat.JPEG:
            # Only configures the decoder: `image.size` and `image.mode` are now the decode's.
            image.draft(None, (side * _DRAFT_MARGIN, side * _DRAFT_MARGIN))
        need = decoded_bytes(image, kind, side)
        reservation = budget.reserve(need) if budget else nullcontext()
        with reservation:
            oriented_square, source_size = _decode_square(image, kind, side, source_size)
    finally:
        image.close()

    report = assess(oriented_square, min(source_size), thresholds)
    pillow_format, mime_type, _ = _ENCODING[fmt]
    buffer = io.BytesIO()
    if pillow_format == "JPEG":
        oriented_square.save(buffer, "JPEG", quality=quality, optimize=True)
    else:
        # method 2 instead of the default 4: a few percent more bytes for much less encoding
        # time (tests/perf/bench_imaging.py --choices).
        oriented_square.save(buffer, "WEBP", quality=quality, method=2)
    return PreparedPhoto(
        data=buffer.getvalue(),
        mime_type=mime_type,
        width=oriented_square.width,
        height=oriented_square.height,
        source_width=source_size[0],
        source_height=source_size[1],
        source_format=kind.value,
        quality=report,
    )


def _identify(data: bytes, *, max_bytes: int) -> ImageFormat:
    """Steps 1 and 2 of `prepare()`: the photo format of `data`, or PhotoRejected. No parsing."""
    if not data:
        raise PhotoRejected.empty()
    if len(data) > max_bytes:
        raise PhotoRejected.too_many_bytes(len(data), max_bytes)
    kind = sniff(data[:32])
    if kind is None:
        raise PhotoRejected.not_an_image()
    if not isinstance(kind, ImageFormat):
        if kind == "GIF" and _is_animated_gif(data):
            raise PhotoRejected.animated(kind)
        raise PhotoRejected.unsupported_format(kind)
    return kind


def _open(data: bytes, kind: ImageFormat, max_pixels: int) -> ImageFile.ImageFile:
    try:
        image = Image.open(io.BytesIO(data), formats=[kind.value])
    except Image.DecompressionBombError:
        raise PhotoRejected.too_many_pixels(None, max_pixels) from None
    except Exception as exc:  # hostile input makes plugins raise almost anything
        log.debug("cannot open %s header: %s", kind.value, type(exc).__name__)
        raise PhotoRejected.corrupt(kind.value) from None
    try:
        width, height = image.size
        if width < 1 or height < 1:
            raise PhotoRejected.corrupt(kind.value)
        if width * height > max_pixels:
            raise PhotoRejected.too_many_pixels(width * height, max_pixels)
        if kind in (ImageFormat.PNG, ImageFormat.WEBP) and getattr(image, "is_animated", False):
            raise PhotoRejected.animated(kind.value)
    except BaseException:
        image.close()
        raise
    return image


def decoded_bytes(image: Image.Image, kind: ImageFormat, side: int) -> int:
    """An upper bound of the memory `_decode_square` holds for `image` (opened, header read,
    drafted) at once: the frame and what its decoder holds besides, the copy widened to a
    resizable mode, the premultiplied copy Pillow resamples a frame with alpha from, and the
    frame reduced by an integer factor before the resize (`reducing_gap`)."""
    width, height = image.size
    pixels = width * height
    total = pixels * _bytes_per_pixel(image.mode) * _DECODER_FRAMES.get(kind, 1)
    mode = _resizable_mode(image)
    wide = pixels * _bytes_per_pixel(mode)
    if mode != image.mode:
        total += wide
    if mode in _PREMULTIPLIED:
        total += wide
    square = min(width, height)
    factor = int(square / min(side, square) / _REDUCING_GAP)
    if factor > 1:
        total += (square // factor) ** 2 * _bytes_per_pixel(mode)
    return total


def _bytes_per_pixel(mode: str) -> int:
    # As Pillow stores them: one byte for "1", "L" and "P", two for 16-bit grey, and four for
    # every other mode (32-bit "I" and "F", and any of 2 to 4 bands: RGB is padded to 4 bytes).
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def _decode_square(
    image: ImageFile.ImageFile, kind: ImageFormat, side: int, source_size: tuple[int, int]
) -> tuple[Image.Image, tuple[int, int]]:
    """The centred square at most `side` px, upright, 8-bit sRGB, with empty `info`.

    `image` is opened and, for JPEG, drafted; `source_size` is its size before the draft.
    """
    width, height = source_size
    try:
        image.load()
        orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception as exc:
        log.debug("cannot decode %s: %s", kind.value, type(exc).__name__)
        raise PhotoRejected.corrupt(kind.value) from None
    icc_profile = image.info.get("icc_profile")

    full = _resizable(image)
    w, h = full.size  # smaller than (width, height) after draft
    square = min(w, h)
    # Never enlarge: upscaling adds bytes, not detail (draft never goes below twice the side).
    out_side = min(side, square)
    box = ((w - square) / 2, (h - square) / 2, (w + square) / 2, (h + square) / 2)
    small = full.resize(
        (out_side, out_side), Image.Resampling.BICUBIC, box=box, reducing_gap=_REDUCING_GAP
    )
    if full is not image:
        full.close()
    image.close()  # the full frame is no longer needed; free it before colour work

    rgb = _to_srgb(small, icc_profile if isinstance(icc_profile, bytes) else None)
    transpose = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    if transpose is not None:
        rgb = rgb.transpose(transpose)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean, (width, height)


def _resizable(image: Image.Image) -> Image.Image:
    """The image in a mode Pillow can resample without losing information."""
    mode = _resizable_mode(image)
    return image if mode == image.mode else image.convert(mode)


def _resizable_mode(image: Image.Image) -> str:
    """The mode `_resizable` gives `image` (known from the header, before decoding)."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK", "I", "F"):
        return mode
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in image.info
        return "RGBA" if transparent else "RGB"
    if mode == "1":
        return "L"
    if mode.startswith("I;16"):
        return "I"
    if mode == "RGBa":
        return "RGBA"
    if mode == "La":
        return "LA"
    return "RGB"  # YCbCr, LAB, HSV, RGBX


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    mode = image.mode
    if mode in ("I", "F"):
        image = _to_8bit(image)
        mode = "L"
    if mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, _WHITE)
        flat.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        image, mode = flat, "RGB"
    if icc_profile and mode in ("RGB", "CMYK"):
        transform = _icc_transform(icc_profile, mode)
        if transform is not None:
            return ImageCms.applyTransform(image, transform) or image
    return image.convert("RGB") if mode != "RGB" else image


def _to_8bit(image: Image.Image) -> Image.Image:
    """8-bit grey from 16/32-bit integer or float pixels, scaled by their nominal range."""
    extrema = image.getextrema()
    assert len(extrema) == 2 and not isinstance(extrema[0], tuple)  # one band
    low, high = float(extrema[0]), float(extrema[1])
    if image.mode == "F" and low >= 0 and high <= 1:
        scale, offset = 255.0, 0.0
    elif low >= 0 and high <= 255:
        scale, offset = 1.0, 0.0
    elif low >= 0 and high <= 65535:
        scale, offset = 255 / 65535, 0.0
    else:  # unknown range: stretch what is there
        span = high - low or 1.0
        scale, offset = 255 / span, -low * 255 / span
    return image.convert("F").point(lambda v: v * scale + offset).convert("L")


@lru_cache(maxsize=16)
def _icc_transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached transform to sRGB, or None for sRGB itself or a profile that cannot be used."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        space = source.profile.xcolor_space.strip()
        if (mode, space) not in (("RGB", "RGB"), ("CMYK", "CMYK")):
            return None
        if mode == "RGB" and "srgb" in (source.profile.profile_description or "").lower():
            return None
        # NOCACHE: lcms's one-pixel cache is not thread-safe and the transform is shared by
        # the worker threads.
        return ImageCms.buildTransform(
            source,
            ImageCms.createProfile("sRGB"),
            mode,
            "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            flags=ImageCms.Flags.NOCACHE,
        )
    except Exception as exc:  # a broken profile: assume sRGB, as a browser would
        log.debug("ignoring unusable ICC profile: %s", type(exc).__name__)
        return None


def _is_animated_gif(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data), formats=["GIF"]) as gif:
            return bool(getattr(gif, "is_animated", False))
    except Exception:
        return False


_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow to open HEIF, on first use only: importing bot.imaging changes nothing."""
    global _heif_registered
    with _heif_lock:
        if _heif_registered:
            return
        # Imported on first use, not with bot.imaging: it loads libheif, which most runs of the
        # bot (Telegram's photos are JPEG) never need.
        import pillow_heif

        # Thumbnails, depth maps and auxiliary images are never used: do not decode them.
        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
        _heif_registered = True
