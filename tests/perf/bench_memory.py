"""Memory: people sending huge photos at once must not take the bot's memory with them.

    PYTHONPATH=. python tests/perf/bench_memory.py [--people 4] [--side 7000]

Each person agrees, says it is their own skin and sends five PNGs of --side x --side pixels as
files (uncompressed, as Telegram passes them on): 8-bit RGB, 8-bit RGBA, 16-bit RGB, 16-bit RGBA
and 16-bit grey. Each decodes to about 200 MB (49 MP at the default PHOTO_MAX_PIXELS of 50 MP)
but compresses to a few hundred KB, so the upload is small and the decoding is what costs.

The bot runs as its own process (`python -m bot run`, default photo settings), the fakes and
the people here. Two runs, each with a fresh bot: one person, then --people at once. Reported:
baseline_mb (the bot's RSS once healthy), peak_one_mb and peak_many_mb (peak RSS of the bot's
whole process tree: the bot's VmHWM plus the largest RSS seen of any children, sampled), their
difference, held_after_mb (RSS a few seconds after the last acknowledgement: memory that freed
images left behind), and how many photos were accepted or refused with a reason. Bar ("ok"):
peak_many_mb <= peak_one_mb + 50 and every photo accepted or refused with a reason.

    PYTHONPATH=. python tests/perf/bench_memory.py --decoders

checks instead, in this process, that the decode budget's estimate of a photo's memory
(`decoded_bytes` in bot/imaging/pipeline.py) is not below what preparing it really takes (its
peak RSS above the RSS before), for big photos of each format and mode. One JSON line per
photo, then a summary whose "ok" says every estimate held.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from PIL import Image

from bot.conversation.intake import rejection_text
from bot.db.migrate import upgrade_to_head
from bot.i18n import speaking
from bot.imaging import DEFAULT_SIDE, PhotoRejected, prepare
from bot.imaging.formats import sniff
from tests.conversation.flows import agree
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.images import encode, large_png, make_skin_photo
from tests.ops.process import BotProcess, free_port
from tests.perf.people import bot_env, wait_healthy

PHOTOS = (("RGB", 8), ("RGBA", 8), ("RGB", 16), ("RGBA", 16), ("L", 16))
BAR_MB = 50.0
SAMPLE_EVERY_S = 0.05
HELD_AFTER_S = 5.0
RECEIVED = re.compile(r"(\d+) photos? received")


@dataclass
class Tree:
    """Peak memory of the bot and any processes it starts."""

    pid: int
    children_peak_mb: float = 0.0
    samples: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def rss_mb(self) -> float:
        return float(psutil.Process(self.pid).memory_info().rss) / 2**20

    def peak_mb(self) -> float:
        hwm = 0.0
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
        return hwm + self.children_peak_mb

    async def sample(self) -> None:
        # VmHWM covers the bot itself exactly; children (none today) are sampled, and their
        # largest sum is added to it, which can only overstate the tree's peak.
        parent = psutil.Process(self.pid)
        while not self._stop.is_set():
            total = 0.0
            with contextlib.suppress(psutil.Error):
                for child in parent.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        total += child.memory_info().rss / 2**20
            self.children_peak_mb = max(self.children_peak_mb, total)
            self.samples += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._stop.set()


def refusals() -> list[str]:
    """Every sentence the bot refuses a photo with, in English."""
    with speaking("en"):
        sentences = {rejection_text(None)}
        for make in (
            PhotoRejected.empty,
            PhotoRejected.not_an_image,
            lambda: PhotoRejected.corrupt("PNG"),
            lambda: PhotoRejected.unsupported_format("PNG"),
            lambda: PhotoRejected.too_many_pixels(None, 1),
            lambda: PhotoRejected.too_many_bytes(2, 1),
        ):
            sentences.add(rejection_text(make()))
    # The size numbers differ per photo: compare the part before the first digit.
    return sorted({re.split(r"\d", s, maxsplit=1)[0] for s in sentences})


async def send_photos(user: FakeUser, photos: list[bytes]) -> dict[str, int]:
    """Agree, own skin, five files; what the acknowledgement said about them."""
    await agree(user)
    await user.press("My own skin")
    await user.wait_for("send 1 to 5 photos", timeout=30)
    for number, data in enumerate(photos, start=1):
        await user.send_document(data, f"photo{number}.png", "image/png", thumbnail=False)
    # One acknowledgement for the batch: the refusals first, then the count (or the request
    # again when none could be used).
    ack = await user.wait_for(
        lambda m: RECEIVED.search(m.text) is not None or "send 1 to 5 photos" in m.text,
        timeout=600,
    )
    refused = sum(ack.text.count(r) for r in refusals())
    match = RECEIVED.search(ack.text)
    return {"accepted": int(match.group(1)) if match else 0, "refused": refused}


async def run_once(people: int, photos: list[bytes]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        database = workdir / "bot.sqlite3"
        await asyncio.to_thread(upgrade_to_head, f"sqlite+aiosqlite:///{database}")
        async with (
            FakeTelegram(record_calls=False) as telegram,
            FakeModelDerm(behaviour=Behaviour.normal(0.1)) as api,
            httpx.AsyncClient() as http,
        ):
            port = free_port()
            bot = BotProcess(workdir, bot_env(telegram, api.url, database, port))
            await bot.start()
            try:
                await wait_healthy(http, port, bot)
                tree = Tree(bot.pid)
                baseline = tree.rss_mb()
                sampler = asyncio.create_task(tree.sample())
                began = time.perf_counter()
                crowd = [FakeUser(telegram, f"M{n}") for n in range(people)]
                answers = await asyncio.gather(*(send_photos(u, photos) for u in crowd))
                seconds = time.perf_counter() - began
                peak = tree.peak_mb()
                await asyncio.sleep(HELD_AFTER_S)  # a measurement of what stays, not a wait
                held = tree.rss_mb()
                tree.stop()
                await sampler
            finally:
                status = await bot.stop(timeout=60)
    sent = people * len(photos)
    accepted = sum(a["accepted"] for a in answers)
    refused = sum(a["refused"] for a in answers)
    return {
        "people": people,
        "photos": sent,
        "accepted": accepted,
        "refused": refused,
        "answered": accepted + refused == sent,
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak, 1),
        "held_after_mb": round(held, 1),
        "seconds": round(seconds, 1),
        "exit_status": status,
    }


def decoder_samples(side: int) -> dict[str, bytes]:
    """Big photos of every format and mode the pipeline treats differently."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    samples = {
        f"png-{colour}{depth}": large_png(side, side, colour=colour, bit_depth=depth)
        for colour, depth in (*PHOTOS, ("LA", 8))
    }
    # Encoders need the whole image in memory: these are smaller, the ratio is what counts.
    photo = make_skin_photo(1000, 1000).resize((side // 2, side // 2))
    samples["png-P"] = encode(photo.quantize(64), "PNG")
    samples["jpeg-RGB"] = encode(photo, "JPEG", quality=90)
    samples["jpeg-CMYK"] = encode(photo.convert("CMYK"), "JPEG", quality=90)
    samples["webp-RGB"] = encode(photo, "WEBP", quality=80)
    see_through = photo.convert("RGBA")
    see_through.putalpha(Image.linear_gradient("L").resize(photo.size))
    samples["webp-RGBA"] = encode(see_through, "WEBP", quality=80)
    samples["heif-RGB"] = encode(photo, "HEIF", quality=80)
    samples["tiff-RGB"] = encode(photo, "TIFF", compression="tiff_adobe_deflate")
    return samples


def _status_mb(field_name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def check_decoders(side: int) -> None:
    import gc

    # Here, not at the top: the two runs above also measure builds that predate them.
    from bot.imaging.allocator import return_freed_memory
    from bot.imaging.pipeline import decoded_bytes

    return_freed_memory()  # as the bot does: otherwise freed frames stay and hide the next
    results = []
    for name, data in decoder_samples(side).items():
        kind = sniff(data[:32])
        with Image.open(io.BytesIO(data)) as image:
            if image.format == "JPEG":
                image.draft(None, (DEFAULT_SIDE, DEFAULT_SIDE))
            estimate = decoded_bytes(image, kind, DEFAULT_SIDE) / 2**20  # type: ignore[arg-type]
        gc.collect()
        before = _status_mb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
        prepare(data, max_pixels=side * side)
        measured = _status_mb("VmHWM") - before
        result = {
            "photo": name,
            "estimate_mb": round(estimate, 1),
            "measured_mb": round(measured, 1),
            # Slack for Pillow's block granularity and the small images after the resize.
            "held": measured <= estimate * 1.05 + 4,
        }
        results.append(result)
        print(json.dumps(result), flush=True)
    summary = {"bench": "decoders", "side": side, "ok": all(r["held"] for r in results)}
    print(json.dumps(summary), flush=True)


def big_jpegs() -> list[bytes]:
    """Five different JPEG files just under Telegram's 20 MB download limit (25 MP of noise,
    which JPEG cannot compress): decoded at 1/8 scale they cost little, so what is held in
    memory is the downloaded files waiting for a worker."""
    photos = []
    for seed in range(len(PHOTOS)):
        noise = [Image.effect_noise((5000, 5000), 60 + seed) for _ in range(3)]
        photos.append(encode(Image.merge("RGB", noise), "JPEG", quality=90))
    return photos


async def main_async(args: argparse.Namespace) -> None:
    if args.photos == "jpeg":
        photos = big_jpegs()
    else:
        photos = [
            large_png(args.side, args.side, colour=colour, bit_depth=depth, seed=n)
            for n, (colour, depth) in enumerate(PHOTOS)
        ]
    one = await run_once(1, photos)
    print(json.dumps(one), flush=True)
    many = await run_once(args.people, photos)
    print(json.dumps(many), flush=True)
    difference = many["peak_mb"] - one["peak_mb"]
    summary = {
        "bench": "memory",
        "photos": args.photos,
        "side": args.side,
        "people": args.people,
        "upload_kb_per_person": round(sum(len(p) for p in photos) / 1024),
        "baseline_mb": one["baseline_mb"],
        "peak_one_mb": one["peak_mb"],
        "peak_many_mb": many["peak_mb"],
        "difference_mb": round(difference, 1),
        "held_after_one_mb": one["held_after_mb"],
        "held_after_many_mb": many["held_after_mb"],
        "seconds_one": one["seconds"],
        "seconds_many": many["seconds"],
        "accepted": one["accepted"] + many["accepted"],
        "refused": one["refused"] + many["refused"],
        "ok": difference <= BAR_MB and one["answered"] and many["answered"],
    }
    print(json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=4, help="people sending at once")
    parser.add_argument("--side", type=int, default=7000, help="side of each PNG, px")
    parser.add_argument(
        "--photos",
        choices=("png", "jpeg"),
        default="png",
        help="png: the huge PNGs above; jpeg: five 19 MB JPEG files (downloads, not decoding)",
    )
    parser.add_argument(
        "--decoders", action="store_true", help="check the decode budget's estimates instead"
    )
    args = parser.parse_args()
    if args.decoders:
        check_decoders(args.side)
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
