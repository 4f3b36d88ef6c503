"""Runs `prepare()` off the event loop, a bounded number at a time.

Pillow releases the GIL while it decodes, resizes and encodes, so worker threads give real
parallelism on a multi-core machine without a process pool's cost of copying megabytes of photo
bytes. The semaphore makes a burst (a group of people sending five 12 MP photos each) wait in
line as cheap coroutines instead of piling up work for the threads. Memory is bounded in bytes
by the decode budget (bot/imaging/budget.py), which every preparer of the process shares: a
worker waits there until the photo's decoded size fits.

The worker threads run at a lower CPU priority (Linux gives each thread its own nice value): in a
burst of photos they would otherwise take both cores from the event loop, and every chat's
answers and database work would wait behind photo decoding. Photos use whatever the loop leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING

from bot.imaging.budget import DecodeBudget
from bot.imaging.pipeline import (
    DEFAULT_FORMAT,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_QUALITY,
    DEFAULT_SIDE,
    PhotoFormat,
    PreparedPhoto,
    prepare,
)
from bot.imaging.quality import DEFAULT_THRESHOLDS, QualityThresholds

if TYPE_CHECKING:
    from bot.config import Settings

# Added to a worker thread's nice value (0 is normal, 19 the lowest priority).
WORKER_NICENESS = 10


def _lower_priority() -> None:
    """Run in each worker thread as it starts: lower that thread's CPU priority only."""
    if sys.platform != "linux":  # elsewhere the nice value belongs to the whole process
        return
    with contextlib.suppress(OSError):  # e.g. a sandbox that forbids it; photos still work
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICENESS)


class PhotoPreparer:
    def __init__(
        self,
        *,
        side: int = DEFAULT_SIDE,
        fmt: PhotoFormat = DEFAULT_FORMAT,
        quality: int = DEFAULT_QUALITY,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        workers: int = 2,
        thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
        budget: DecodeBudget | None = None,
    ) -> None:
        """`budget`: the process's decode budget; None for none (only `workers` bound memory)."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._prepare = functools.partial(
            prepare,
            side=side,
            fmt=fmt,
            quality=quality,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            thresholds=thresholds,
            budget=budget,
        )
        self.workers = workers
        self.budget = budget
        # Threads start on first use, not here.
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="photo", initializer=_lower_priority
        )
        self._slots = asyncio.Semaphore(workers)
        self._closed = False
        self._owns_pool = True

    @classmethod
    def from_settings(cls, settings: Settings, budget: DecodeBudget | None = None) -> PhotoPreparer:
        """The API's preparer; `budget`: the process's (a new one from the settings if None)."""
        return cls(
            side=settings.photo_side_px,
            fmt=settings.photo_format,
            quality=settings.photo_quality,
            max_bytes=settings.photo_max_bytes,
            max_pixels=settings.photo_max_pixels,
            workers=settings.photo_workers,
            budget=budget or DecodeBudget.from_settings(settings),
        )

    def with_output(self, *, side: int, fmt: PhotoFormat, quality: int) -> PhotoPreparer:
        """A preparer of other copies (size, format) on this one's workers and decode budget:
        one pool of photo threads for the process, however many kinds of copies it makes."""
        other = copy.copy(self)
        output = {"side": side, "fmt": fmt, "quality": quality}
        other._prepare = functools.partial(
            self._prepare.func, **{**self._prepare.keywords, **output}
        )
        other._owns_pool = False
        return other

    async def prepare(self, data: bytes) -> PreparedPhoto:
        """`prepare(data)` on a worker thread; raises PhotoRejected like it."""
        if self._closed:
            raise RuntimeError("PhotoPreparer is closed")
        await self._slots.acquire()
        loop = asyncio.get_running_loop()
        try:
            work: Future[PreparedPhoto] = self._executor.submit(self._prepare, data)
        except BaseException:
            self._slots.release()
            raise

        def free_slot(_: Future[PreparedPhoto]) -> None:
            # The slot is freed when the thread is done, not when the caller stops waiting: a
            # cancelled caller must not let more decodes run at once than there are workers.
            # RuntimeError: the loop has closed, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._slots.release)

        work.add_done_callback(free_slot)
        return await asyncio.wrap_future(work)

    def close(self) -> None:
        """Wait for running work to finish and stop the threads; idempotent."""
        self._closed = True
        if self._owns_pool:
            self._executor.shutdown(wait=True, cancel_futures=True)

    async def aclose(self) -> None:
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    async def __aenter__(self) -> PhotoPreparer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
