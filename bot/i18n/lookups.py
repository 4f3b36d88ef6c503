"""Stored languages asked for at about the same time, read from the database in one query.

Every update needs its person's stored language before anything is said. People not seen lately
(bot/i18n/memory.py) need a database read, and they come in bursts: a clinic announces the bot,
and Telegram hands over up to 100 first messages at once. As 100 units of work queued for the one
SQLite connection, those reads took 220 ms (median) of the bot's own time for each /start at 200
people at once; as one `IN (...)` query they take a few milliseconds in all.

Reads asked for while the event loop works through one batch of updates wait one loop turn, then
share one query. A failed query fails each of its readers, as their own reads would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class LanguageLookups:
    def __init__(self, read_many: Callable[[list[int]], Awaitable[dict[int, str]]]) -> None:
        """`read_many(ids)`: the stored language of each of `ids` that has one."""
        self._read_many = read_many
        self._waiting: dict[int, list[asyncio.Future[str | None]]] = {}
        self._reading: asyncio.Task[None] | None = None

    async def read(self, telegram_user_id: int) -> str | None:
        """The person's stored language, None if they have none."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()
        self._waiting.setdefault(telegram_user_id, []).append(answer)
        if self._reading is None:
            self._reading = loop.create_task(self._read_waiting(), name="language-lookups")
        return await answer

    async def _read_waiting(self) -> None:
        # One more loop turn: the other updates of the same batch ask meanwhile.
        await asyncio.sleep(0)
        waiting, self._waiting, self._reading = self._waiting, {}, None
        answers = [(user, answer) for user, group in waiting.items() for answer in group]
        try:
            languages = await self._read_many(list(waiting))
        except Exception as error:
            for _, answer in answers:
                if not answer.done():  # done: its reader was cancelled
                    answer.set_exception(error)
            return
        except BaseException:  # cancelled (shutdown): so are the readers
            for _, answer in answers:
                answer.cancel()
            raise
        for user, answer in answers:
            if not answer.done():
                answer.set_result(languages.get(user))
