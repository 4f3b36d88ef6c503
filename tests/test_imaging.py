"""Photo intake: what a person sends becomes a small, upright, square, metadata-free image, or a
kind refusal; and the quality advice matches what a person would see."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
import time
from collections.abc import Callable

import pytest
from PIL import Image, ImageCms

from bot.config import Settings
from bot.imaging import (
    DEFAULT_FORMAT,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_QUALITY,
    DEFAULT_SIDE,
    PhotoPreparer,
    PhotoRejected,
    PreparedPhoto,
    QualityIssue,
    RejectionReason,
    prepare,
)
from bot.imaging import preparer as preparer_module
from tests.images import (
    animated_gif,
    blurred,
    bomb_png,
    darkened,
    encode,
    jpeg_bytes,
    jpeg_segments,
    make_skin_photo,
    overexposed,
    png_bytes,
    webp_chunks,
)

RED = (255, 0, 0)


def decoded(photo: PreparedPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(photo.data))
    image.load()
    return image


def is_red(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    return r > 180 and g < 90 and b < 90


def rejection(data: bytes, **params: object) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        prepare(data, **params)  # type: ignore[arg-type]
    error = caught.value
    # Every refusal is one plain sentence a person can act on, never a Python error text.
    assert error.message.endswith(".")
    assert "Error" not in error.message and "Pillow" not in error.message
    assert str(error) == error.message
    return error


# --- Refusals ------------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    assert rejection(b"").reason is RejectionReason.EMPTY


def test_text_file_named_like_a_photo_is_not_an_image() -> None:
    error = rejection(b"Dear doctor, the rash started on Monday.\n" * 20)
    assert error.reason is RejectionReason.NOT_AN_IMAGE
    assert "not a photo" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",  # an MP4 video
        b"PK\x03\x04" + b"\x00" * 100,  # a zip
    ],
)
def test_other_files_are_not_images(data: bytes) -> None:
    assert rejection(data).reason is RejectionReason.NOT_AN_IMAGE


def test_byte_limit_is_checked_before_anything_is_parsed() -> None:
    not_even_an_image = b"x" * 5000
    error = rejection(not_even_an_image, max_bytes=4096)
    assert error.reason is RejectionReason.TOO_MANY_BYTES
    assert (error.size_bytes, error.max_bytes) == (5000, 4096)


def test_photo_over_the_byte_limit_is_refused_and_under_it_accepted() -> None:
    data = jpeg_bytes(make_skin_photo(640, 480, 1))
    assert rejection(data, max_bytes=len(data) - 1).reason is RejectionReason.TOO_MANY_BYTES
    assert prepare(data, max_bytes=len(data)).width == 480


def test_truncated_jpeg_is_corrupt() -> None:
    data = jpeg_bytes(make_skin_photo(640, 480, 2))
    error = rejection(data[: len(data) // 2])
    assert error.reason is RejectionReason.CORRUPT
    assert "damaged" in error.message


def test_truncated_png_is_corrupt() -> None:
    data = png_bytes(make_skin_photo(320, 240, 2))
    assert rejection(data[: len(data) // 2]).reason is RejectionReason.CORRUPT


def test_jpeg_magic_followed_by_garbage_is_corrupt() -> None:
    assert rejection(b"\xff\xd8\xff\xe0" + b"\x13" * 500).reason is RejectionReason.CORRUPT


def test_bomb_png_is_refused_from_its_header_without_decoding() -> None:
    # 64 MP declared in a file of a few hundred bytes: under Pillow's own guard (89 MP), so only
    # our limit stops it, and it must do so before allocating 190 MB of pixels.
    data = bomb_png(8000, 8000)
    assert len(data) < 1000
    error = rejection(data)
    assert error.reason is RejectionReason.TOO_MANY_PIXELS
    assert (error.pixels, error.max_pixels) == (64_000_000, DEFAULT_MAX_PIXELS)
    assert "megapixels" in error.message


def test_gigantic_declared_size_is_refused_too() -> None:
    error = rejection(bomb_png(100_000, 100_000))
    assert error.reason is RejectionReason.TOO_MANY_PIXELS


def test_pixel_limit_is_configurable() -> None:
    data = jpeg_bytes(make_skin_photo(1000, 800, 3))
    error = rejection(data, max_pixels=500_000)
    assert (error.reason, error.pixels, error.max_pixels) == (
        RejectionReason.TOO_MANY_PIXELS,
        800_000,
        500_000,
    )
    assert prepare(data, max_pixels=800_000).width == 512


def test_animated_gif_is_refused_as_an_animation() -> None:
    error = rejection(animated_gif())
    assert error.reason is RejectionReason.ANIMATED
    assert "still photo" in error.message


def test_still_gif_and_bmp_are_unsupported_formats() -> None:
    image = make_skin_photo(200, 150, 1)
    for fmt in ("GIF", "BMP"):
        error = rejection(encode(image, fmt))
        assert error.reason is RejectionReason.UNSUPPORTED_FORMAT
        assert error.detected_format == fmt
        assert "JPEG, PNG, WebP, HEIC" in error.message


def test_animated_webp_and_png_are_refused() -> None:
    frames = [Image.new("RGB", (64, 64), (i * 60, 80, 120)) for i in range(3)]
    for fmt in ("WEBP", "PNG"):
        data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
        assert rejection(data).reason is RejectionReason.ANIMATED


# --- Accepted formats and colour modes ----------------------------------------------------


def test_large_phone_jpeg_becomes_a_small_square_webp() -> None:
    photo = prepare(jpeg_bytes(make_skin_photo(3000, 2000, 1), quality=92))
    assert (photo.width, photo.height) == (DEFAULT_SIDE, DEFAULT_SIDE)
    assert (photo.source_width, photo.source_height, photo.source_format) == (3000, 2000, "JPEG")
    assert (photo.mime_type, photo.filename) == ("image/webp", "photo.webp")
    image = decoded(photo)
    assert (image.format, image.mode, image.size) == ("WEBP", "RGB", (512, 512))
    assert len(photo.data) < 100_000


def test_side_format_and_quality_are_honoured() -> None:
    data = jpeg_bytes(make_skin_photo(1280, 960, 2))
    low = prepare(data, side=256, fmt="jpeg", quality=50)
    high = prepare(data, side=256, fmt="jpeg", quality=95)
    assert (low.mime_type, low.filename) == ("image/jpeg", "photo.jpg")
    assert decoded(low).size == (256, 256) and decoded(low).format == "JPEG"
    assert len(low.data) < len(high.data)


def test_small_photo_is_squared_but_not_enlarged() -> None:
    photo = prepare(jpeg_bytes(make_skin_photo(300, 200, 1)))
    assert (photo.width, photo.height) == (200, 200)
    assert decoded(photo).size == (200, 200)


def test_centre_crop_keeps_the_centre() -> None:
    image = Image.new("RGB", (900, 500), (30, 30, 200))
    image.paste(RED, (400, 200, 500, 300))  # a red square exactly in the middle
    out = decoded(prepare(png_bytes(image), side=100))
    assert is_red(out.getpixel((50, 50)))
    # The blue left and right margins were cut away evenly, so the red is centred.
    row = [is_red(out.getpixel((x, 50))) for x in range(100)]
    first, last = row.index(True), 99 - row[::-1].index(True)
    assert abs(first - (99 - last)) <= 2


def test_cmyk_jpeg_keeps_its_colours() -> None:
    rgb = Image.new("RGB", (300, 300), (200, 140, 110))
    rgb.paste((90, 50, 40), (100, 100, 200, 200))
    data = jpeg_bytes(rgb.convert("CMYK"), quality=95)
    # Pillow writes CMYK the way Photoshop does: inverted, flagged by an Adobe APP14 segment.
    assert 0xEE in jpeg_segments(data)
    out = decoded(prepare(data, side=300))
    for xy, expected in (((20, 20), (200, 140, 110)), ((150, 150), (90, 50, 40))):
        got = out.getpixel(xy)
        assert all(abs(g - e) <= 12 for g, e in zip(got, expected, strict=True)), (got, expected)


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    # A horizontal ramp over the whole 16-bit range, 64 x 64 so nothing is cropped away.
    raw = b"".join(((x * 1040).to_bytes(2, "little")) for x in range(64)) * 64
    image = Image.frombytes("I;16", (64, 64), raw)
    data = png_bytes(image)
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = decoded(prepare(data, side=64)).convert("L")
    levels = [out.getpixel((x, 32)) for x in (2, 32, 61)]
    assert levels[0] < 30 and 100 < levels[1] < 160 and levels[2] > 225, levels


def test_transparent_png_is_composited_on_white() -> None:
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))  # transparent black
    image.paste((255, 0, 0, 255), (100, 0, 200, 200))
    out = decoded(prepare(png_bytes(image), side=200))
    assert all(c > 240 for c in out.getpixel((20, 100)))
    assert is_red(out.getpixel((180, 100)))


def test_palette_png_with_transparency_is_composited_on_white() -> None:
    image = Image.new("P", (120, 120), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (60, 0, 120, 120))
    data = png_bytes(image, transparency=0)
    out = decoded(prepare(data, side=120))
    assert all(c > 240 for c in out.getpixel((10, 60)))
    assert is_red(out.getpixel((110, 60)))


def test_grey_and_webp_and_tiff_inputs_are_accepted() -> None:
    skin = make_skin_photo(800, 600, 3)
    for data, fmt in (
        (encode(skin, "WEBP", quality=90), "WEBP"),
        (encode(skin, "TIFF", compression="tiff_lzw"), "TIFF"),
        (png_bytes(skin.convert("L")), "PNG"),
        (png_bytes(skin.convert("LA")), "PNG"),
    ):
        photo = prepare(data)
        assert (photo.source_format, photo.width, decoded(photo).mode) == (fmt, 512, "RGB")


def test_multi_page_tiff_gives_its_first_page() -> None:
    pages = [Image.new("RGB", (100, 100), RED), Image.new("RGB", (100, 100), (0, 0, 255))]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert is_red(decoded(prepare(data)).getpixel((50, 50)))


def test_heic_from_an_iphone_is_accepted_upright() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this pillow-heif build has no HEVC encoder")
    upright = _upright_landscape()
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # the inverse of orientation 6
    heif = pillow_heif.from_pillow(stored)
    buffer = io.BytesIO()
    heif.save(buffer, quality=90, exif=_exif_with(orientation=6))
    data = buffer.getvalue()
    assert data[4:12] == b"ftypheic"
    photo = prepare(data, side=100)
    assert (photo.source_format, photo.source_width, photo.source_height) == ("HEIF", 600, 400)
    out = decoded(photo)
    assert is_red(out.getpixel((15, 15))) and not is_red(out.getpixel((85, 85)))


def test_broken_icc_profile_is_ignored_and_srgb_dropped() -> None:
    skin = make_skin_photo(400, 300, 1)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (srgb, b"not really a profile" * 10):
        photo = prepare(jpeg_bytes(skin, icc_profile=profile), fmt="jpeg")
        assert 0xE2 not in jpeg_segments(photo.data)
        assert "icc_profile" not in decoded(photo).info


# --- Orientation ---------------------------------------------------------------------------

# The transform that, applied to the upright picture, gives what a camera stores for each tag.
_STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _stored(upright: Image.Image, orientation: int) -> Image.Image:
    transform = _STORED_AS[orientation]
    return upright if transform is None else upright.transpose(transform)


def _upright_landscape() -> Image.Image:
    # 600x400 with a red mark in the top-left corner of the centred 400x400 square.
    image = Image.new("RGB", (600, 400), (200, 200, 200))
    image.paste(RED, (110, 10, 190, 90))
    return image


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_ends_upright(orientation: int) -> None:
    stored = _stored(_upright_landscape(), orientation)
    photo = prepare(jpeg_bytes(stored, exif_orientation=orientation), side=100)
    assert (photo.source_width, photo.source_height) == (600, 400)
    out = decoded(photo)
    assert is_red(out.getpixel((15, 15)))
    for corner in ((85, 15), (15, 85), (85, 85)):
        assert not is_red(out.getpixel(corner)), (orientation, corner)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_orientation_is_applied_in_other_formats(fmt: str) -> None:
    stored = _stored(_upright_landscape(), 6)
    data = encode(stored, fmt, exif=_exif_with(orientation=6))
    out = decoded(prepare(data, side=100))
    assert is_red(out.getpixel((15, 15))) and not is_red(out.getpixel((85, 85)))


def _exif_with(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


# --- Metadata ------------------------------------------------------------------------------


def _metadata_laden_jpeg() -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return jpeg_bytes(
        make_skin_photo(800, 600, 4),
        exif_orientation=1,
        gps=True,
        maker_note=True,
        icc_profile=srgb,
        comment=b"Patient: Jane Doe",
        xmp=b"<x:xmpmeta><rdf:Description GPSLatitude='52.5'/></x:xmpmeta>",
    )


def test_jpeg_output_of_a_gps_tagged_photo_has_no_metadata_at_all() -> None:
    data = _metadata_laden_jpeg()
    assert b"SECRET-SERIAL" in data and b"Jane Doe" in data  # the input really carries it
    photo = prepare(data, fmt="jpeg")
    # Only the JFIF header, quantisation/Huffman tables and frame header: no APP1 (EXIF, XMP),
    # APP2 (ICC), APP13 (IPTC) or COM segments.
    assert set(jpeg_segments(photo.data)) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD}
    image = decoded(photo)
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
    for secret in (b"SECRET-SERIAL", b"Jane Doe", b"TestCam", b"GPS", b"xmpmeta"):
        assert secret not in photo.data


def test_webp_output_of_a_gps_tagged_photo_has_no_metadata_at_all() -> None:
    photo = prepare(_metadata_laden_jpeg(), fmt="webp")
    assert webp_chunks(photo.data) == [b"VP8 "]  # plain lossy WebP: no EXIF, ICCP or XMP chunk
    assert len(decoded(photo).getexif()) == 0


# --- Quality advice ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_sharp_well_lit_skin_photo_gets_no_warning(seed: int) -> None:
    report = prepare(jpeg_bytes(make_skin_photo(1280, 960, seed))).quality
    assert report.ok, report
    assert report.warnings == ()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("share", [0.006, 0.01, 0.02])
def test_blurred_photo_is_flagged_blurry(seed: int, share: float) -> None:
    sharp = make_skin_photo(1280, 960, seed)
    report = prepare(jpeg_bytes(blurred(sharp, 960 * share))).quality
    assert report.blurry and report.warnings == (QualityIssue.BLURRY,), report


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_underexposed_photo_is_flagged_too_dark(seed: int) -> None:
    report = prepare(jpeg_bytes(darkened(make_skin_photo(1280, 960, seed), 0.2))).quality
    assert report.too_dark and not report.blurry, report


def test_darkest_skin_tone_in_good_light_is_not_called_too_dark() -> None:
    report = prepare(jpeg_bytes(make_skin_photo(1280, 960, seed=4))).quality
    assert not report.too_dark, report


@pytest.mark.parametrize("seed", [0, 1])
def test_overexposed_photo_is_flagged(seed: int) -> None:
    report = prepare(jpeg_bytes(overexposed(make_skin_photo(1280, 960, seed), 1.8))).quality
    assert report.overexposed and report.highlight_clipping > 0.2, report


def test_small_photo_is_flagged_and_warnings_keep_a_stable_order() -> None:
    tiny = darkened(blurred(make_skin_photo(280, 200, 1), 3), 0.2)
    report = prepare(jpeg_bytes(tiny)).quality
    assert report.source_short_side == 200
    assert report.warnings == (QualityIssue.TOO_SMALL, QualityIssue.BLURRY, QualityIssue.TOO_DARK)
    assert not report.ok


# --- Settings and the worker pool -----------------------------------------------------------


def test_settings_defaults_are_the_module_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.photo_side_px == DEFAULT_SIDE
    assert settings.photo_format == DEFAULT_FORMAT
    assert settings.photo_quality == DEFAULT_QUALITY
    assert settings.photo_max_bytes == DEFAULT_MAX_BYTES
    assert settings.photo_max_pixels == DEFAULT_MAX_PIXELS


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    return jpeg_bytes(make_skin_photo(4000, 3000, 5), quality=92)


async def test_preparer_keeps_the_event_loop_responsive(big_jpeg: bytes) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    async with PhotoPreparer(workers=1) as preparer:
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        started = time.perf_counter()
        photos = [await preparer.prepare(big_jpeg) for _ in range(3)]
        elapsed = time.perf_counter() - started
        stop.set()
        await task
    assert all(p.width == DEFAULT_SIDE for p in photos)
    # Had the work run on the loop, the ticker could not have run while it did.
    assert ticks >= 5, (ticks, elapsed)


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_photos_are_prepared_at_a_lower_cpu_priority_than_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In a burst, photo decoding must not take the cores from the loop that answers everyone.
    niceness: list[int] = []
    real_prepare: Callable[..., PreparedPhoto] = preparer_module.prepare

    def observing_prepare(data: bytes, **params: object) -> PreparedPhoto:
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real_prepare(data, **params)

    monkeypatch.setattr(preparer_module, "prepare", observing_prepare)
    loop_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    async with PhotoPreparer(workers=1) as preparer:
        await preparer.prepare(jpeg_bytes(make_skin_photo(64, 64, 1)))
    (worker_niceness,) = niceness
    assert worker_niceness > loop_niceness  # a higher nice value: a lower priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_niceness


async def test_preparer_runs_at_most_workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    real_prepare: Callable[..., PreparedPhoto] = preparer_module.prepare

    def counting_prepare(data: bytes, **params: object) -> PreparedPhoto:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.03)
            return real_prepare(data, **params)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(preparer_module, "prepare", counting_prepare)
    data = jpeg_bytes(make_skin_photo(640, 480, 1))
    async with PhotoPreparer(workers=2) as preparer:
        burst = [asyncio.create_task(preparer.prepare(data)) for _ in range(8)]
        await asyncio.sleep(0.01)
        burst[-1].cancel()  # a person who gave up: must not free a slot early
        done = await asyncio.gather(*burst, return_exceptions=True)
    assert most == 2
    assert sum(isinstance(p, PreparedPhoto) for p in done) == 7
    assert isinstance(done[-1], asyncio.CancelledError)


async def test_preparer_passes_refusals_on_and_closes_cleanly() -> None:
    settings = Settings(_env_file=None, photo_side_px=256, photo_format="jpeg", photo_workers=1)  # type: ignore[call-arg]
    preparer = PhotoPreparer.from_settings(settings)
    with pytest.raises(PhotoRejected) as caught:
        await preparer.prepare(b"")
    assert caught.value.reason is RejectionReason.EMPTY
    photo = await preparer.prepare(jpeg_bytes(make_skin_photo(640, 480, 1)))
    assert (photo.width, photo.mime_type) == (256, "image/jpeg")
    await preparer.aclose()
    assert not [t for t in threading.enumerate() if t.name.startswith("photo")]
    with pytest.raises(RuntimeError):
        await preparer.prepare(b"")
    preparer.close()  # idempotent
