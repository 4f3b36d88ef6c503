"""The measurements the photo quality thresholds were calibrated on, and the margin they leave.

    PYTHONPATH=. python tests/perf/bench_quality.py [--input-dir DIR]

Every photo goes through bot.imaging.prepare() with the default settings, and the numbers are
those its quality report gives (bot/imaging/quality.py): the variance of a Laplacian on a small
grey copy (sharpness), the mean luminance (brightness) and the share of clipped highlights.
The synthetic variants are the ones tests/test_imaging.py checks: 1280 x 960 skin-like photos of
the five skin tones of tests/images.py, sharp, blurred by a share of the short side, darkened,
and pale tones brightened. `--input-dir` adds a folder of real photos, which should raise no
warning when they are sharp and well lit.

Prints one line per variant (value ranges and how many photos got each warning), then one JSON
line; `calibrated` is true when every variant made to get a warning got exactly that one, and
the sharp ones none (the borderline variants, slightly blurred or darkened, are shown for the
margin they leave and may go either way).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.imaging import prepare
from bot.imaging.quality import DEFAULT_THRESHOLDS, QualityIssue, QualityReport
from tests.images import blurred, darkened, jpeg_bytes, make_skin_photo, overexposed

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff"}
SHORT_SIDE = 960


@dataclass(frozen=True)
class Variant:
    name: str
    seeds: tuple[int, ...]
    make: Callable[[Image.Image], Image.Image]
    # The warnings this variant must get; None for a borderline one, shown for the margin.
    expected: tuple[QualityIssue, ...] | None


def _blur(share: float) -> Callable[[Image.Image], Image.Image]:
    return lambda image: blurred(image, SHORT_SIDE * share)


BLURRY, TOO_DARK, OVEREXPOSED = QualityIssue.BLURRY, QualityIssue.TOO_DARK, QualityIssue.OVEREXPOSED
ALL_TONES = (0, 1, 2, 3, 4)
VARIANTS = (
    Variant("sharp", ALL_TONES, lambda image: image, ()),
    Variant("darkest tone, good light", (4,), lambda image: image, ()),
    Variant("blurred 0.3%", ALL_TONES, _blur(0.003), None),
    Variant("blurred 0.6%", ALL_TONES, _blur(0.006), (BLURRY,)),
    Variant("blurred 2%", ALL_TONES, _blur(0.02), (BLURRY,)),
    Variant("darkened to 20%", (0, 1, 2), lambda image: darkened(image, 0.2), (TOO_DARK,)),
    Variant("darkened to 25%", (0, 1, 2), lambda image: darkened(image, 0.25), None),
    Variant("pale, brightened 1.8x", (0, 1), lambda image: overexposed(image, 1.8), (OVEREXPOSED,)),
)


def summarise(name: str, reports: list[QualityReport]) -> dict[str, object]:
    def span(values: list[float], digits: int) -> list[float]:
        return [round(min(values), digits), round(max(values), digits)]

    warned: dict[str, int] = {}
    for report in reports:
        for issue in report.warnings:
            warned[issue.value] = warned.get(issue.value, 0) + 1
    return {
        "variant": name,
        "photos": len(reports),
        "sharpness": span([r.sharpness for r in reports], 0),
        "brightness": span([r.brightness for r in reports], 0),
        "highlight_clipping": span([r.highlight_clipping for r in reports], 3),
        "warned": warned,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, help="real photos to measure as well")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    calibrated = True
    for variant in VARIANTS:
        reports = [
            prepare(jpeg_bytes(variant.make(make_skin_photo(1280, SHORT_SIDE, seed)))).quality
            for seed in variant.seeds
        ]
        if variant.expected is not None:
            calibrated &= all(report.warnings == variant.expected for report in reports)
        rows.append(summarise(variant.name, reports))
    if args.input_dir:
        paths = sorted(p for p in args.input_dir.iterdir() if p.suffix.lower() in EXTENSIONS)
        reports = [prepare(path.read_bytes()).quality for path in paths]
        if reports:
            rows.append(summarise(f"real photos in {args.input_dir.name}", reports))
    t = DEFAULT_THRESHOLDS
    print(
        f"thresholds: blurry below {t.min_sharpness:g}, too dark below {t.min_brightness:g}, "
        f"overexposed above {t.max_brightness:g} or over {t.max_highlight_clipping:.0%} clipped"
    )
    for row in rows:
        sharp, bright, clip = row["sharpness"], row["brightness"], row["highlight_clipping"]
        assert isinstance(sharp, list) and isinstance(bright, list) and isinstance(clip, list)
        print(
            f"{row['variant']:28} {row['photos']:2} photos"
            f"  sharpness {sharp[0]:5.0f}-{sharp[1]:<5.0f}"
            f" brightness {bright[0]:3.0f}-{bright[1]:<3.0f}"
            f" clipped {clip[0]:.1%}-{clip[1]:.1%}"
            f"  warned {row['warned'] or 'none'}"
        )
    summary = {
        "benchmark": "quality",
        "thresholds": {
            "min_sharpness": t.min_sharpness,
            "min_brightness": t.min_brightness,
            "max_brightness": t.max_brightness,
            "max_highlight_clipping": t.max_highlight_clipping,
        },
        "variants": rows,
        "calibrated": calibrated,
    }
    print(json.dumps(summary, separators=(",", ":")))
    return 0 if calibrated else 1


if __name__ == "__main__":
    sys.exit(main())
