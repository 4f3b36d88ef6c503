"""How many bytes of photos may be in memory at once: decoded pixels, and downloaded files.

A photo's file says little about its memory: a 7000 x 7000 PNG of a few hundred kilobytes
decodes to 196 MB. Bounding the number of photos decoded at once (the worker threads) bounds
nothing in bytes, so every decode first reserves what it will hold, from the header, before a
pixel is decoded (`decoded_bytes` in bot/imaging/pipeline.py), and gives it back once the full
frame is freed. The budget is shared by every preparer in the process (the API's and the
clinic's), so the bound holds for the process, not per pool.

Reservations are granted in the order they were asked for: a big photo waiting is never
overtaken for ever by small ones that would fit beside what is running. A photo larger than the
whole budget is not refused for that (it is within PHOTO_MAX_PIXELS, so it is a photo the bot
accepts): it waits until nothing else is decoding and then runs alone.

Downloaded files are held from their download until their check ends (bot/conversation/
intake.py); `DownloadBudget` bounds their bytes the same way, on the event loop. The two are
separate on purpose: a check holds its download while its decode waits, so one pool for both
could fill up with downloads whose decodes then wait for each other for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

MB = 1024 * 1024


class DecodeBudget:
    """A weighted semaphore in bytes, for worker threads (a waiting thread blocks)."""

    def __init__(self, capacity_bytes: int) -> None:
        if capacity_bytes < 1:
            raise ValueError("the decode budget must be at least one byte")
        self.capacity = capacity_bytes
        self._used = 0
        self._turns: deque[object] = deque()
        self._changed = threading.Condition()

    @classmethod
    def from_settings(cls, settings: Settings) -> DecodeBudget:
        return cls(settings.photo_decode_budget_mb * MB)

    @property
    def in_use(self) -> int:
        """Bytes reserved right now."""
        with self._changed:
            return self._used

    @property
    def waiting(self) -> int:
        """Reservations waiting for their turn or their bytes."""
        with self._changed:
            return len(self._turns)

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        """Hold `size` bytes of the budget for the duration of the block, waiting for them."""
        # A photo bigger than the whole budget takes all of it: it runs when nothing else does.
        size = max(0, min(size, self.capacity))
        turn = object()
        with self._changed:
            self._turns.append(turn)
            try:
                while self._turns[0] is not turn or self._used + size > self.capacity:
                    self._changed.wait()
            finally:
                self._turns.remove(turn)
                # The next in line may fit beside this one (or may now be first).
                self._changed.notify_all()
            self._used += size
        try:
            yield
        finally:
            with self._changed:
                self._used -= size
                self._changed.notify_all()


class DownloadBudget:
    """A weighted semaphore in bytes, for coroutines; first come, first served."""

    def __init__(self, capacity_bytes: int) -> None:
        if capacity_bytes < 1:
            raise ValueError("the download budget must be at least one byte")
        self.capacity = capacity_bytes
        self.in_use = 0
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def waiting(self) -> int:
        """Reservations waiting for their turn or their bytes."""
        return sum(not future.done() for _, future in self._waiting)

    @asynccontextmanager
    async def reserve(self, size: int) -> AsyncIterator[None]:
        """Hold `size` bytes of the budget for the duration of the block, waiting for them."""
        size = max(0, min(size, self.capacity))  # a bigger file takes all: it goes alone
        if not self._waiting and self.in_use + size <= self.capacity:
            self.in_use += size
        else:
            entry = (size, asyncio.get_running_loop().create_future())
            self._waiting.append(entry)
            try:
                await entry[1]
            except BaseException:
                if entry[1].done() and not entry[1].cancelled():
                    self.in_use -= size  # granted, then cancelled before it could run
                with contextlib.suppress(ValueError):  # already taken out by _grant
                    self._waiting.remove(entry)
                self._grant()
                raise
        try:
            yield
        finally:
            self.in_use -= size
            self._grant()

    def _grant(self) -> None:
        while self._waiting:
            size, future = self._waiting[0]
            if future.done():  # its waiter was cancelled
                self._waiting.popleft()
                continue
            if self.in_use + size > self.capacity:
                return
            self._waiting.popleft()
            self.in_use += size
            future.set_result(None)
