"""The languages of people seen lately, so that not every update reads one from the database.

Every update is answered in the person's stored language; looking it up was a database round trip
per update, a large share of all of them, and under a burst the database is what everyone waits
for.
Entries expire (a language changed or erased from outside the bot, by the CLI, is picked up within
TTL_S) and the oldest are dropped beyond MAX_PEOPLE. Only the bot's own process reads this.
"""

from __future__ import annotations

import time
from collections import OrderedDict

MAX_PEOPLE = 10_000
TTL_S = 600.0


class RecentLanguages:
    def __init__(self, max_people: int = MAX_PEOPLE, ttl_s: float = TTL_S) -> None:
        self.max_people, self.ttl_s = max_people, ttl_s
        self._entries: OrderedDict[int, tuple[str, float]] = OrderedDict()

    def get(self, telegram_user_id: int) -> str | None:
        entry = self._entries.get(telegram_user_id)
        if entry is None:
            return None
        language, expires = entry
        if time.monotonic() >= expires:
            del self._entries[telegram_user_id]
            return None
        self._entries.move_to_end(telegram_user_id)
        return language

    def remember(self, telegram_user_id: int, language: str) -> None:
        self._entries[telegram_user_id] = (language, time.monotonic() + self.ttl_s)
        self._entries.move_to_end(telegram_user_id)
        while len(self._entries) > self.max_people:
            self._entries.popitem(last=False)

    def forget(self, telegram_user_id: int) -> None:
        self._entries.pop(telegram_user_id, None)

    def __len__(self) -> int:
        return len(self._entries)
