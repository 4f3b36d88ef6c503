"""The stored language of each person, remembered once read (bot/i18n/memory.py)."""

from __future__ import annotations

from bot.db.database import Database
from bot.db.users import language_of_user
from bot.i18n.memory import RecentLanguages


class StoredLanguages:
    def __init__(self, database: Database, memory: RecentLanguages | None = None) -> None:
        self.database = database
        self.memory = memory or RecentLanguages()

    async def of(self, telegram_user_id: int) -> str | None:
        """The person's stored language (None if none yet)."""
        if (known := self.memory.get(telegram_user_id)) is not None:
            return known
        stored = await self.database.run(language_of_user, telegram_user_id)
        if stored is not None:
            self.memory.remember(telegram_user_id, stored)
        return stored

    def remember(self, telegram_user_id: int, language: str) -> None:
        self.memory.remember(telegram_user_id, language)

    def forget(self, telegram_user_id: int) -> None:
        self.memory.forget(telegram_user_id)
