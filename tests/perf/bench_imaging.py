"""Benchmark: our photo preparation against the API's own example pipeline.

Needs OpenCV for the reference only (not a project dependency):

    pip install opencv-python-headless

Run from the repository root:

    python tests/perf/bench_imaging.py                      # synthetic phone-like inputs
    python tests/perf/bench_imaging.py --input-dir DIR      # your own photos (e.g. 12 MP originals)

Pipelines, per photo:
  ours       bot.imaging.prepare() with the default settings (512 px WebP, quality 85)
  reference  the Model Dermatology example: full decode with OpenCV, EXIF orientation ignored
             (IMREAD_COLOR | IMREAD_IGNORE_ORIENTATION; plain IMREAD_COLOR would rotate), centre
             square crop, cv2.imencode('.webp') with OpenCV's defaults (quality 100), no resize

Groups: 12 MP JPEGs (4032x3024, EXIF-rotated when synthetic), 1280 px Telegram-style JPEGs (made
from the 12 MP inputs when a folder is given, as Telegram would), and a large PNG (synthetic
only). Time: median and p95 over `--repeat` runs of every photo, in this process. Peak memory:
each pipeline runs every group in a fresh subprocess, which resets its peak RSS (VmHWM, Linux)
before each photo and reports the largest rise above the RSS it had just before (Pillow and
OpenCV allocate pixels outside Python's allocator, so tracemalloc would miss them).
Prints readable lines, then one JSON line.

    python tests/perf/bench_imaging.py --choices [--input-dir DIR]

measures, instead, the choices bot/imaging/pipeline.py and the photo intake made (no OpenCV
needed; each figure is [smallest, median, largest] over the photos): decoding JPEGs at 1/4
rather than 1/2 scale (time, and PSNR against a full decode), bicubic rather than Lanczos
resampling, WebP encoder method 2 rather than 4, WebP against JPEG at the output side (bytes,
and PSNR against the unencoded square), output sides 384/512/640, and fetching Telegram's
800 px size of a photo rather than its 1280 px size.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff"}


def ours(data: bytes) -> int:
    from bot.imaging import prepare

    return len(prepare(data).data)


def reference(data: bytes) -> int:
    import cv2
    import numpy as np

    image = cv2.imdecode(
        np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    )
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    ok, encoded = cv2.imencode(".webp", image[top : top + side, left : left + side])
    assert ok
    return int(encoded.size)


PIPELINES: dict[str, Callable[[bytes], int]] = {"ours": ours, "reference": reference}


def synthetic_inputs(folder: Path) -> dict[str, list[Path]]:
    from PIL import Image

    from tests.images import jpeg_bytes, make_skin_photo, png_bytes

    groups: dict[str, list[Path]] = {"12mp_jpeg": [], "1280px_jpeg": [], "large_png": []}
    for seed in range(3):
        # A phone held upright stores a landscape frame and says "rotate 90" in EXIF.
        upright = make_skin_photo(3024, 4032, seed, noise=16)
        stored = upright.transpose(Image.Transpose.ROTATE_90)
        path = folder / f"phone-{seed}.jpg"
        path.write_bytes(jpeg_bytes(stored, exif_orientation=6, quality=92))
        groups["12mp_jpeg"].append(path)
        small = upright.resize((960, 1280), Image.Resampling.LANCZOS)
        path = folder / f"telegram-{seed}.jpg"
        path.write_bytes(jpeg_bytes(small, quality=87))
        groups["1280px_jpeg"].append(path)
    path = folder / "screenshot.png"
    path.write_bytes(png_bytes(make_skin_photo(3000, 2000, 7)))
    groups["large_png"].append(path)
    return groups


def folder_inputs(source: Path, folder: Path) -> dict[str, list[Path]]:
    from PIL import Image, ImageOps

    from bot.imaging.pipeline import _register_heif

    _register_heif()
    groups: dict[str, list[Path]] = {"12mp_jpeg": [], "other": [], "1280px_jpeg": []}
    for path in sorted(p for p in source.iterdir() if p.suffix.lower() in EXTENSIONS):
        with Image.open(path) as image:
            big = image.width * image.height >= 8_000_000
            is_jpeg = image.format == "JPEG"
            # What Telegram makes of it when sent as a photo: upright, 1280 px, JPEG.
            small = ImageOps.exif_transpose(image).convert("RGB")
            small.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
        groups["12mp_jpeg" if big and is_jpeg else "other"].append(path)
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=87)
        copy = folder / f"telegram-{path.stem}.jpg"
        copy.write_bytes(buffer.getvalue())
        groups["1280px_jpeg"].append(copy)
    return {name: paths for name, paths in groups.items() if paths}


def time_group(
    pipeline: Callable[[bytes], int], paths: list[Path], repeat: int
) -> dict[str, float]:
    blobs = [p.read_bytes() for p in paths]
    pipeline(blobs[0])  # warm-up: imports, codec initialisation
    times, sizes = [], []
    for _ in range(repeat):
        for blob in blobs:
            started = time.perf_counter()
            sizes.append(pipeline(blob))
            times.append(time.perf_counter() - started)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "mean_output_bytes": round(statistics.mean(sizes)),
        "mean_input_bytes": round(statistics.mean(len(b) for b in blobs)),
    }


def peak_memory_mb(pipeline: str, paths: list[Path]) -> float:
    """Peak RSS above the baseline, for one pipeline over one group, in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-worker", pipeline, *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def memory_worker(pipeline: str, paths: list[str]) -> None:
    import psutil

    blobs = [Path(p).read_bytes() for p in paths]
    run = PIPELINES[pipeline]
    # Import and initialise the codecs on a tiny image so the baseline includes the libraries.
    from PIL import Image

    tiny = io.BytesIO()
    Image.new("RGB", (16, 16)).save(tiny, "JPEG")
    run(tiny.getvalue())
    peak = 0
    for blob in blobs:
        baseline = psutil.Process().memory_info().rss
        _reset_peak_rss()
        run(blob)
        peak = max(peak, _peak_rss() - baseline)
    print(round(max(0, peak) / 2**20, 1))


def _reset_peak_rss() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM, the peak RSS of this process, so each photo's
    # peak is measured on its own (getrusage's maxrss cannot be reset and even carries the
    # parent's peak across fork and exec).
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --------------------------------------------------------------------------- --choices

OUTPUT_SIDE = 512


def _decoded(data: bytes, draft_side: int | None = None) -> Any:
    """The photo decoded; a JPEG at the smallest DCT scale still covering `draft_side`."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    if draft_side:
        image.draft("RGB", (draft_side, draft_side))
    image.load()
    return image


def _square(image: Any, resample: Any, side: int = OUTPUT_SIDE) -> Any:
    """The centred square of `image` shrunk to `side`, cropped and resized as the pipeline does."""
    w, h = image.size
    edge = min(w, h)
    box = ((w - edge) / 2, (h - edge) / 2, (w + edge) / 2, (h + edge) / 2)
    return image.resize((side, side), resample, box=box, reducing_gap=3.0)


def _drafted_square(data: bytes, draft_side: int | None, resample: Any) -> Any:
    return _square(_decoded(data, draft_side), resample)


def _encoded(image: Any, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _psnr(a: Any, b: Any) -> float:
    """Peak signal-to-noise ratio of two images of one size, in dB (higher: more alike)."""
    from PIL import ImageChops, ImageStat

    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    mse = sum(ImageStat.Stat(diff).sum2) / (3 * diff.width * diff.height)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def _median_ms(job: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def _span(values: list[float], digits: int = 1) -> list[float]:
    """[smallest, median, largest] over the photos."""
    return [round(v, digits) for v in (min(values), statistics.median(values), max(values))]


def draft_choice(photos: list[bytes], repeat: int) -> dict[str, object]:
    """Decoding 12 MP JPEGs at 1/4 scale (the square at least 1x the side) rather than 1/2 (2x)."""
    from PIL import Image

    lanczos = Image.Resampling.LANCZOS
    ms: dict[str, list[float]] = {"full": [], "2x": [], "1x": []}
    psnr: dict[str, list[float]] = {"2x": [], "1x": []}
    for data in photos:
        full = _drafted_square(data, None, lanczos)
        ms["full"].append(_median_ms(partial(_drafted_square, data, None, lanczos), repeat))
        for name, margin in (("2x", 2), ("1x", 1)):
            side = OUTPUT_SIDE * margin
            ms[name].append(_median_ms(partial(_drafted_square, data, side, lanczos), repeat))
            psnr[name].append(_psnr(_drafted_square(data, side, lanczos), full))
    return {
        "photos": len(photos),
        **{f"{name}_ms": _span(values) for name, values in ms.items()},
        **{f"{name}_psnr_db": _span(values) for name, values in psnr.items()},
    }


def resample_choice(frames: list[Any], repeat: int) -> dict[str, object]:
    """Bicubic (the bot's) rather than Lanczos, shrinking a decoded 1280 px photo."""
    from PIL import Image

    bicubic, lanczos = Image.Resampling.BICUBIC, Image.Resampling.LANCZOS
    return {
        "photos": len(frames),
        "bicubic_ms": _span([_median_ms(partial(_square, f, bicubic), repeat) for f in frames]),
        "lanczos_ms": _span([_median_ms(partial(_square, f, lanczos), repeat) for f in frames]),
        "psnr_db": _span([_psnr(_square(f, bicubic), _square(f, lanczos)) for f in frames]),
    }


ENCODINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "webp_q85_method2": ("WEBP", {"quality": 85, "method": 2}),
    "webp_q85_method4": ("WEBP", {"quality": 85, "method": 4}),
    "jpeg_q85": ("JPEG", {"quality": 85, "optimize": True}),
    "jpeg_q88": ("JPEG", {"quality": 88, "optimize": True}),
}


def encoding_choice(squares: list[Any], repeat: int) -> dict[str, object]:
    """WebP method 2 (the bot's) or 4, and WebP or JPEG: time, bytes, PSNR to the square."""
    from PIL import Image

    results: dict[str, object] = {}
    for name, (fmt, options) in ENCODINGS.items():
        blobs = [_encoded(square, fmt, **options) for square in squares]
        results[name] = {
            "ms": _span(
                [_median_ms(partial(_encoded, q, fmt, **options), repeat) for q in squares]
            ),
            "kb": _span([len(blob) / 1024 for blob in blobs]),
            "psnr_db": _span(
                [_psnr(Image.open(io.BytesIO(b)), q) for b, q in zip(blobs, squares, strict=True)]
            ),
        }
    return results


def telegram_size_choice(photos: list[bytes], repeat: int) -> dict[str, object]:
    """prepare() on Telegram's 1280 px size of a photo against its 800 px size (the bot's)."""
    from PIL import Image

    from bot.imaging import prepare

    smaller = []
    for data in photos:
        copy = _decoded(data).convert("RGB")
        copy.thumbnail((800, 800), Image.Resampling.LANCZOS)
        smaller.append(_encoded(copy, "JPEG", quality=87))
    return {
        "photos": len(photos),
        "1280px_ms": _span([_median_ms(partial(prepare, d), repeat) for d in photos]),
        "800px_ms": _span([_median_ms(partial(prepare, d), repeat) for d in smaller]),
    }


def sides_choice(photos: list[bytes]) -> dict[str, object]:
    """Bytes of prepare()'s output at other sides, and as JPEG, over every input photo."""
    from bot.imaging import prepare

    results: dict[str, object] = {"photos": len(photos)}
    for side in (384, 512, 640):
        results[f"webp_{side}px_kb"] = _span(
            [len(prepare(d, side=side).data) / 1024 for d in photos]
        )
    jpeg = [len(prepare(d, fmt="jpeg", quality=88).data) / 1024 for d in photos]
    results["jpeg_q88_512px_kb"] = _span(jpeg)
    return results


def choices(groups: dict[str, list[Path]], repeat: int, input_dir: Path | None) -> None:
    from PIL import Image

    results: dict[str, object] = {}
    big = [p.read_bytes() for p in groups.get("12mp_jpeg", [])]
    if big:
        results["jpeg_draft"] = draft_choice(big, repeat)
    telegram = [p.read_bytes() for p in groups.get("1280px_jpeg", [])]
    if telegram:
        frames = [_decoded(data) for data in telegram]
        results["resample"] = resample_choice(frames, repeat)
        squares = [_square(f, Image.Resampling.BICUBIC) for f in frames]
        results["encoding"] = encoding_choice(squares, repeat)
        results["telegram_size"] = telegram_size_choice(telegram, repeat)
    results["sides"] = sides_choice([p.read_bytes() for ps in groups.values() for p in ps])
    for name, values in results.items():
        print(f"{name:14} {json.dumps(values)}")
    summary = {
        "benchmark": "imaging_choices",
        "inputs": str(input_dir) if input_dir else "synthetic",
        "cpus": os.cpu_count(),
        "repeat": repeat,
        **results,
    }
    print(json.dumps(summary, separators=(",", ":")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input-dir", type=Path, help="photos to use instead of synthetic ones")
    parser.add_argument("--repeat", type=int, default=5, help="runs of every photo (default 5)")
    parser.add_argument(
        "--choices", action="store_true", help="measure the pipeline's design choices instead"
    )
    parser.add_argument("--memory-worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_worker:
        memory_worker(args.memory_worker[0], args.memory_worker[1:])
        return 0
    if args.choices:
        with tempfile.TemporaryDirectory(prefix="bench-imaging-") as tmp:
            folder = Path(tmp)
            groups = folder_inputs(args.input_dir, folder) if args.input_dir else None
            choices(groups or synthetic_inputs(folder), args.repeat, args.input_dir)
        return 0
    try:
        import cv2
    except ImportError:
        print("the reference pipeline needs: pip install opencv-python-headless", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-imaging-") as tmp:
        folder = Path(tmp)
        if args.input_dir:
            groups = folder_inputs(args.input_dir, folder)
        else:
            groups = synthetic_inputs(folder)
        results: dict[str, dict[str, object]] = {}
        for group, paths in groups.items():
            entry: dict[str, object] = {"photos": len(paths)}
            for name, pipeline in PIPELINES.items():
                stats: dict[str, float] = time_group(pipeline, paths, args.repeat)
                stats["peak_rss_mb"] = peak_memory_mb(name, paths)
                entry[name] = stats
                print(
                    f"{group:12} {name:9} {len(paths)} photos x{args.repeat}: "
                    f"median {stats['median_ms']:8.1f} ms  p95 {stats['p95_ms']:8.1f} ms  "
                    f"out {stats['mean_output_bytes'] / 1024:8.1f} KB "
                    f"(in {stats['mean_input_bytes'] / 1024:7.0f} KB)  "
                    f"peak +{stats['peak_rss_mb']:6.1f} MB",
                    flush=True,
                )
            results[group] = entry

    def ratio(group: str, key: str) -> float | None:
        if group not in results:
            return None
        ours_stats, ref_stats = results[group]["ours"], results[group]["reference"]
        assert isinstance(ours_stats, dict) and isinstance(ref_stats, dict)
        return round(ref_stats[key] / ours_stats[key], 1)

    time_ratio = ratio("12mp_jpeg", "median_ms")
    bytes_ratio = ratio("12mp_jpeg", "mean_output_bytes")
    telegram = results.get("1280px_jpeg", {}).get("ours")
    ms_1280 = telegram["median_ms"] if isinstance(telegram, dict) else None
    summary = {
        "benchmark": "imaging",
        "inputs": str(args.input_dir) if args.input_dir else "synthetic",
        "cpus": os.cpu_count(),
        "opencv": cv2.__version__,
        "repeat": args.repeat,
        "groups": results,
        "time_ratio": time_ratio,
        "bytes_ratio": bytes_ratio,
        "ms_per_1280px_photo": ms_1280,
        "bar_met": bool(
            time_ratio is not None
            and bytes_ratio is not None
            and ms_1280 is not None
            and time_ratio >= 10
            and bytes_ratio >= 5
            and ms_1280 < 50
        ),
    }
    print(f"12 MP JPEG: {time_ratio}x faster, {bytes_ratio}x fewer bytes; 1280 px: {ms_1280} ms")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
