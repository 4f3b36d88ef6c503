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
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input-dir", type=Path, help="photos to use instead of synthetic ones")
    parser.add_argument("--repeat", type=int, default=5, help="runs of every photo (default 5)")
    parser.add_argument("--memory-worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_worker:
        memory_worker(args.memory_worker[0], args.memory_worker[1:])
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
