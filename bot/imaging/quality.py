"""Advice about a photo (too small, blurred, too dark, overexposed); never a reason to refuse.

The bot shows these as "this photo looks blurry: keep it or send another?". Everything is
measured on the prepared image, i.e. what the classifier will see, at a fixed analysis scale so
that the numbers do not depend on the configured output side. Pillow only: numpy is not a
runtime dependency.

How the thresholds were chosen (tests/perf/bench_quality.py prints the measurements, and
docs/photos.md quotes them; tests/test_imaging.py keeps the synthetic cases on the right side):
a synthetic skin-like texture made by tests/images.py (skin tones, pores and sensor noise, an
irregular darker lesion, hair lines), and blurred, darkened and overexposed versions of it, were
measured; each threshold sits between the values of the good and the bad versions with a margin
on both sides, and the ten real sample photos of the API's author (sharp, well lit) were checked
to pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageFilter, ImageStat

# Sharpness is measured on a grey copy of this side: large enough to keep pores and hair (what a
# sharp skin photo has and a blurred one lacks), small enough that sensor noise is averaged out.
ANALYSIS_SIDE = 256
# 4-neighbour Laplacian. Pillow clips filter output to 0..255, so it is offset by 128: edges
# stronger than +-127 grey levels are clipped, which only lowers the variance of very sharp
# images, never raises that of blurred ones.
_LAPLACIAN = ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=128)


class QualityIssue(StrEnum):
    """Codes in the order the bot mentions them: most actionable first."""

    TOO_SMALL = "too_small"
    BLURRY = "blurry"
    TOO_DARK = "too_dark"
    OVEREXPOSED = "overexposed"


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    # Shorter side of the original below this: the classifier's own inputs are 224-384 px and
    # the API's example lesion crops are 350-570 px, so below 300 px detail is already lost.
    min_source_side: int = 300
    # Variance of the Laplacian (grey levels squared) at ANALYSIS_SIDE below this: blurred.
    # It sits between the clearly blurred photos and the least sharp real sample photo, with a
    # wide margin either side; a slight blur may go either way.
    min_sharpness: float = 15.0
    # Mean luminance (0-255) below this: too dark. Deliberately low: a well-lit photo of very
    # dark skin (Fitzpatrick V-VI) must not be told it is too dark; a clearly underexposed one is.
    min_brightness: float = 40.0
    # Mean luminance above this, or more than this share of clipped highlights (>= 250):
    # overexposed. Well above the brightest real sample photos, below pale skin brightened.
    max_brightness: float = 230.0
    max_highlight_clipping: float = 0.2


DEFAULT_THRESHOLDS = QualityThresholds()


@dataclass(frozen=True, slots=True)
class QualityReport:
    source_short_side: int
    sharpness: float
    brightness: float
    highlight_clipping: float
    shadow_clipping: float
    too_small: bool
    blurry: bool
    too_dark: bool
    overexposed: bool

    @property
    def warnings(self) -> tuple[QualityIssue, ...]:
        flags = {
            QualityIssue.TOO_SMALL: self.too_small,
            QualityIssue.BLURRY: self.blurry,
            QualityIssue.TOO_DARK: self.too_dark,
            QualityIssue.OVEREXPOSED: self.overexposed,
        }
        return tuple(issue for issue in QualityIssue if flags[issue])

    @property
    def ok(self) -> bool:
        return not self.warnings


@dataclass(frozen=True, slots=True)
class Measurements:
    sharpness: float
    brightness: float
    highlight_clipping: float
    shadow_clipping: float


def measure(image: Image.Image) -> Measurements:
    """Sharpness and exposure numbers of an RGB or grey image."""
    grey = image.convert("L")
    histogram = grey.histogram()
    pixels = grey.width * grey.height
    brightness = sum(level * count for level, count in enumerate(histogram)) / pixels
    highlight = sum(histogram[250:]) / pixels
    shadow = sum(histogram[:6]) / pixels
    if max(grey.size) > ANALYSIS_SIDE:
        scale = ANALYSIS_SIDE / max(grey.size)
        small = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(small, Image.Resampling.BOX)
    laplacian = grey.filter(_LAPLACIAN)
    # Ignore the 1-pixel border, where the filter sees only the edge replicated.
    if laplacian.width > 2 and laplacian.height > 2:
        laplacian = laplacian.crop((1, 1, laplacian.width - 1, laplacian.height - 1))
    sharpness = ImageStat.Stat(laplacian).var[0]
    return Measurements(sharpness, brightness, highlight, shadow)


def assess(
    image: Image.Image,
    source_short_side: int,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
) -> QualityReport:
    m = measure(image)
    return QualityReport(
        source_short_side=source_short_side,
        sharpness=round(m.sharpness, 2),
        brightness=round(m.brightness, 2),
        highlight_clipping=round(m.highlight_clipping, 4),
        shadow_clipping=round(m.shadow_clipping, 4),
        too_small=source_short_side < thresholds.min_source_side,
        blurry=m.sharpness < thresholds.min_sharpness,
        too_dark=m.brightness < thresholds.min_brightness,
        overexposed=(
            m.brightness > thresholds.max_brightness
            or m.highlight_clipping > thresholds.max_highlight_clipping
        ),
    )
