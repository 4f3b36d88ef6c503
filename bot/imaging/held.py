"""Prepared photos held in memory from their arrival until their case is sent.

Every photo is prepared soon after it arrives (a damaged file is refused before the photos are
acknowledged, and blur is pointed out while the camera is still out). Downloading and preparing
it again at submission doubled the bot's photo work, its largest cost under load, so the
prepared copy (512 px, no metadata, tens of kilobytes) is held here instead: in memory only,
never on disk, taken out when the case is sent and dropped when the photo is replaced, the case
cancelled or the person's data erased. Whatever is not here (after a restart, an entry past TTL_S
or pushed out by MAX_BYTES) is downloaded from Telegram and prepared again, exactly as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from bot.imaging.pipeline import PreparedPhoto

MAX_BYTES = 64 * 1024 * 1024
TTL_S = 3600.0

# (Telegram user id of the person who sent it, Telegram's file_unique_id)
Key = tuple[int, str]


class HeldPhotos:
    def __init__(self, max_bytes: int = MAX_BYTES, ttl_s: float = TTL_S) -> None:
        self.max_bytes, self.ttl_s = max_bytes, ttl_s
        self._entries: OrderedDict[Key, tuple[PreparedPhoto, float]] = OrderedDict()
        self.bytes = 0

    def hold(self, owner: int, file_unique_id: str, photo: PreparedPhoto) -> None:
        self.drop(owner, file_unique_id)
        self._entries[(owner, file_unique_id)] = (photo, time.monotonic() + self.ttl_s)
        self.bytes += len(photo.data)
        self._trim()

    def take(self, owner: int, file_unique_id: str) -> PreparedPhoto | None:
        """The held photo, removed from here; None when it is not (or no longer) held."""
        self._trim()
        entry = self._entries.pop((owner, file_unique_id), None)
        if entry is None:
            return None
        self.bytes -= len(entry[0].data)
        return entry[0]

    def drop(self, owner: int, file_unique_id: str) -> None:
        entry = self._entries.pop((owner, file_unique_id), None)
        if entry is not None:
            self.bytes -= len(entry[0].data)

    def forget(self, owner: int) -> None:
        """Drop every photo this person sent."""
        for key in [key for key in self._entries if key[0] == owner]:
            self.drop(*key)

    def __len__(self) -> int:
        return len(self._entries)

    def _trim(self) -> None:
        # Oldest first: entries are only ever added at the end.
        now = time.monotonic()
        while self._entries:
            key, (_, expires) = next(iter(self._entries.items()))
            if expires > now and self.bytes <= self.max_bytes:
                break
            self.drop(*key)
