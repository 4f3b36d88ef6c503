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
import uuid
from collections import OrderedDict

from bot.imaging.pipeline import PreparedPhoto

MAX_BYTES = 64 * 1024 * 1024
TTL_S = 3600.0

# A photo's key in the database too: (its case's public id, Telegram's file_unique_id), the pair
# case_photos is unique on. So the photo a case sends is the one its row names, whoever asks.
Key = tuple[uuid.UUID, str]


class _Held:
    __slots__ = ("expires", "photo", "sender")

    def __init__(self, photo: PreparedPhoto, sender: int, expires: float) -> None:
        self.photo, self.sender, self.expires = photo, sender, expires


class HeldPhotos:
    def __init__(self, max_bytes: int = MAX_BYTES, ttl_s: float = TTL_S) -> None:
        self.max_bytes, self.ttl_s = max_bytes, ttl_s
        self._entries: OrderedDict[Key, _Held] = OrderedDict()
        self.bytes = 0

    def hold(self, key: Key, photo: PreparedPhoto, *, sender: int) -> None:
        """Hold the prepared copy of the photo `key`; `sender` is who sent it (for erasure)."""
        self.drop(key)
        self._entries[key] = _Held(photo, sender, time.monotonic() + self.ttl_s)
        self.bytes += len(photo.data)
        self._trim()

    def take(self, key: Key) -> PreparedPhoto | None:
        """The held photo, removed from here; None when it is not (or no longer) held."""
        self._trim()
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self.bytes -= len(entry.photo.data)
        return entry.photo

    def drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= len(entry.photo.data)

    def forget_case(self, case: uuid.UUID) -> None:
        """Drop every photo of this case (cancelled or refused before it was sent)."""
        for key in [key for key in self._entries if key[0] == case]:
            self.drop(key)

    def forget_sender(self, sender: int) -> None:
        """Drop every photo this person sent, in any case (their data was erased)."""
        for key in [key for key, entry in self._entries.items() if entry.sender == sender]:
            self.drop(key)

    def __len__(self) -> int:
        return len(self._entries)

    def _trim(self) -> None:
        # Oldest first: entries are only ever added at the end.
        now = time.monotonic()
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.expires > now and self.bytes <= self.max_bytes:
                break
            self.drop(key)
