"""Photo memory is bounded in bytes: decodes wait for their decoded size to fit in the process's
budget (first come, first served; a photo bigger than the budget runs alone, never refused),
downloads wait for their declared size, and freed photo memory goes back to the system."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.imaging import DEFAULT_SIDE, DecodeBudget, DownloadBudget, ImageFormat, PhotoPreparer
from bot.imaging import pipeline as pipeline_module
from bot.imaging.pipeline import decoded_bytes
from tests.images import jpeg_bytes, large_png, make_skin_photo, png_bytes

WAIT_S = 10.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition another thread makes true (an event, not a fixed sleep)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


async def turns_until(condition: Callable[[], bool], what: str) -> None:
    """Let the other tasks run until `condition` holds (they need only a few turns)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


class Holder:
    """A thread that reserves `size` bytes and holds them until told to let go."""

    def __init__(self, budget: DecodeBudget, size: int) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, args=(budget, size), daemon=True)
        self.thread.start()

    def _run(self, budget: DecodeBudget, size: int) -> None:
        with budget.reserve(size):
            self.entered.set()
            self.release.wait(WAIT_S)

    def finish(self) -> None:
        self.release.set()
        self.thread.join(WAIT_S)


# --- The decode budget ------------------------------------------------------------------------


def test_a_reservation_that_does_not_fit_waits_until_bytes_are_given_back() -> None:
    budget = DecodeBudget(10)
    first = Holder(budget, 8)
    assert first.entered.wait(WAIT_S)
    second = Holder(budget, 5)
    wait_until(lambda: budget.waiting == 1, "the second reservation to wait")
    assert not second.entered.is_set()
    assert budget.in_use == 8
    first.finish()
    assert second.entered.wait(WAIT_S)
    assert budget.in_use == 5
    second.finish()
    assert budget.in_use == 0


def test_a_big_reservation_waiting_is_not_overtaken_by_small_ones() -> None:
    budget = DecodeBudget(10)
    running = Holder(budget, 6)
    assert running.entered.wait(WAIT_S)
    big = Holder(budget, 8)
    wait_until(lambda: budget.waiting == 1, "the big one to wait")
    small = Holder(budget, 1)  # would fit beside the running one, but comes after the big one
    wait_until(lambda: budget.waiting == 2, "the small one to wait")
    assert not small.entered.is_set()
    running.finish()
    assert big.entered.wait(WAIT_S)
    assert small.entered.wait(WAIT_S)  # 8 + 1 fit together
    big.finish()
    small.finish()
    assert budget.in_use == 0


def test_a_photo_larger_than_the_whole_budget_runs_alone_and_is_not_refused() -> None:
    budget = DecodeBudget(10)
    alone = Holder(budget, 50)
    assert alone.entered.wait(WAIT_S)  # nothing else held: it runs at once
    other = Holder(budget, 1)
    wait_until(lambda: budget.waiting == 1, "the next one to wait")
    assert not other.entered.is_set()
    alone.finish()
    assert other.entered.wait(WAIT_S)
    other.finish()
    late = Holder(budget, 1)
    assert late.entered.wait(WAIT_S)
    huge = Holder(budget, 50)  # waits for the small one, then runs
    wait_until(lambda: budget.waiting == 1, "the huge one to wait")
    late.finish()
    assert huge.entered.wait(WAIT_S)
    huge.finish()


@contextmanager
def watched_decodes(
    monkeypatch: pytest.MonkeyPatch, budget: DecodeBudget, expect_waiting: int
) -> Iterator[list[int]]:
    """Record how many photos are being decoded at once. The first decode waits until
    `expect_waiting` photos are queued at the budget, so a budget that let them in could not
    hide an overlap by luck of timing."""
    real = pipeline_module._decode_square
    active, peaks = [0], []
    lock, first = threading.Lock(), threading.Event()

    def watched(*args: Any, **kwargs: Any) -> Any:
        with lock:
            active[0] += 1
            peaks.append(active[0])
        if not first.is_set():
            first.set()
            wait_until(lambda: budget.waiting >= expect_waiting, "the other photos to queue")
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(pipeline_module, "_decode_square", watched)
    yield peaks


def side_for(budget_bytes: int) -> int:
    """The side of an RGB PNG whose decode needs more than half of `budget_bytes`."""
    return int((budget_bytes * 0.6 / 4) ** 0.5) + 1


async def test_two_big_photos_are_never_decoded_at_once_within_a_small_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budget = DecodeBudget(16 * 1024 * 1024)
    side = side_for(budget.capacity)
    photos = [large_png(side, side, seed=n) for n in range(2)]
    with watched_decodes(monkeypatch, budget, expect_waiting=1) as peaks:
        async with PhotoPreparer(workers=2, budget=budget) as preparer:
            prepared = await asyncio.gather(*(preparer.prepare(p) for p in photos))
    assert [p.width for p in prepared] == [DEFAULT_SIDE, DEFAULT_SIDE]
    assert max(peaks) == 1
    assert budget.in_use == 0


async def test_small_photos_are_decoded_side_by_side_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The budget bounds bytes, not photos: ordinary photos still use every worker.
    budget = DecodeBudget(256 * 1024 * 1024)
    photos = [png_bytes(make_skin_photo(800, 600, seed=n)) for n in range(2)]
    together = threading.Barrier(2, timeout=WAIT_S)
    real = pipeline_module._decode_square

    def decode_together(*args: Any, **kwargs: Any) -> Any:
        together.wait()  # BrokenBarrierError unless the other photo is being decoded too
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "_decode_square", decode_together)
    async with PhotoPreparer(workers=2, budget=budget) as preparer:
        prepared = await asyncio.gather(*(preparer.prepare(p) for p in photos))
    assert len(prepared) == 2


async def test_a_photo_bigger_than_the_budget_still_completes() -> None:
    budget = DecodeBudget(1024 * 1024)
    photo = large_png(2000, 2000, colour="RGBA", bit_depth=16)
    async with PhotoPreparer(workers=2, budget=budget) as preparer:
        prepared = await preparer.prepare(photo)
    assert prepared.width == DEFAULT_SIDE
    assert budget.in_use == 0


def test_the_estimate_follows_the_decode_that_will_happen() -> None:
    def estimate(data: bytes, kind: ImageFormat) -> int:
        with Image.open(io.BytesIO(data)) as image:
            if kind is ImageFormat.JPEG:
                image.draft(None, (DEFAULT_SIDE, DEFAULT_SIDE))
            return decoded_bytes(image, kind, DEFAULT_SIDE)

    side = 4000
    frame = side * side * 4  # Pillow keeps RGB in 4 bytes a pixel
    rgb = estimate(large_png(side, side), ImageFormat.PNG)
    assert frame <= rgb < 1.3 * frame  # and the copy reduced by an integer factor
    # Alpha: Pillow resamples from a premultiplied copy of the whole frame.
    assert estimate(large_png(side, side, colour="RGBA"), ImageFormat.PNG) >= 2 * frame
    # 16-bit grey is widened to 32-bit before resizing, while the 16-bit frame is still held.
    grey = estimate(large_png(side, side, colour="L", bit_depth=16), ImageFormat.PNG)
    assert grey >= side * side * (2 + 4)
    # A JPEG is decoded at 1/4 here (libjpeg's DCT scaling): its estimate is that decode's.
    jpeg = jpeg_bytes(make_skin_photo(500, 500).resize((side, side)))
    assert estimate(jpeg, ImageFormat.JPEG) <= frame / 16


# --- The download budget --------------------------------------------------------------------


async def test_downloads_wait_for_their_bytes_first_come_first_served() -> None:
    budget = DownloadBudget(10)
    order: list[str] = []
    release = {name: asyncio.Event() for name in ("a", "b", "c")}

    async def download(name: str, size: int) -> None:
        async with budget.reserve(size):
            order.append(name)
            await release[name].wait()

    a = asyncio.create_task(download("a", 6))
    await asyncio.sleep(0)
    b = asyncio.create_task(download("b", 8))
    c = asyncio.create_task(download("c", 1))  # fits beside a, but b came first
    await turns_until(lambda: budget.waiting == 2, "b and c to wait")
    assert order == ["a"]
    release["a"].set()
    await a
    await turns_until(lambda: len(order) == 3, "b and c to get their bytes")
    assert order == ["a", "b", "c"]
    release["b"].set()
    release["c"].set()
    await asyncio.gather(b, c)
    assert budget.in_use == 0


async def test_a_cancelled_download_gives_its_place_and_bytes_back() -> None:
    budget = DownloadBudget(10)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold(size: int) -> None:
        async with budget.reserve(size):
            holding.set()
            await release.wait()

    first = asyncio.create_task(hold(10))
    await holding.wait()
    waiting = asyncio.create_task(hold(10))
    await turns_until(lambda: budget.waiting == 1, "the second one to wait")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert budget.waiting == 0
    release.set()
    await first
    assert budget.in_use == 0
    # Bigger than the whole budget: it takes all of it and goes alone.
    async with budget.reserve(1000):
        assert budget.in_use == 10
    assert budget.in_use == 0


# --- Freed memory goes back ---------------------------------------------------------------------

HELD_AFTER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from bot.imaging import prepare
from bot.imaging.allocator import return_freed_memory
from tests.images import large_png

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "tuned":
    assert return_freed_memory()
photos = [large_png(5000, 5000, colour=c, seed=n) for n, c in enumerate(["RGB", "RGBA", "L"] * 2)]
before = rss_mb()
with ThreadPoolExecutor(2) as workers:  # as the bot's photo workers do
    list(workers.map(prepare, photos))
    print(round(rss_mb() - before))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_memory_of_prepared_photos_goes_back_to_the_system() -> None:
    # Each of these photos needs 25-200 MB while it is prepared; afterwards the process must not
    # stay that much bigger. Without return_freed_memory() glibc keeps freed blocks in its
    # heaps, several times the bound below.
    done = subprocess.run(
        [sys.executable, "-c", HELD_AFTER, "tuned"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    assert int(done.stdout.strip()) < 20, done.stdout
