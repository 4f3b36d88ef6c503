"""A case's photos as they go to the API: held in memory since they arrived, or fetched from
Telegram and prepared again (after a restart, or for the card of a result delivered later)."""

from __future__ import annotations

import logging
import uuid

from telegram import Bot
from telegram.error import TelegramError

from bot.db.cases import get_case
from bot.db.database import Database
from bot.db.errors import StorageError
from bot.imaging import PhotoPreparer, PhotoRejected
from bot.imaging.held import HeldPhotos
from bot.modelderm.client import PhotoUpload

log = logging.getLogger(__name__)


class Uploads:
    def __init__(self, database: Database, preparer: PhotoPreparer, held: HeldPhotos) -> None:
        self.database, self.preparer, self.held = database, preparer, held

    async def of_photos(
        self, bot: Bot, case: uuid.UUID, photos: list[tuple[str, str]]
    ) -> list[PhotoUpload]:
        """`photos`: (file_id, file_unique_id) of each of the case's photos, in order."""
        uploads = []
        for file_id, file_unique_id in photos:
            prepared = self.held.take((case, file_unique_id))
            if prepared is None:
                telegram_file = await bot.get_file(file_id)
                data = bytes(await telegram_file.download_as_bytearray())
                prepared = await self.preparer.prepare(data)
            uploads.append(PhotoUpload(prepared.data, prepared.mime_type, prepared.filename))
        return uploads

    async def first_photo(self, bot: Bot, public_id: uuid.UUID) -> bytes | None:
        """The case's first photo prepared again, or None when Telegram no longer has it."""
        try:
            case = await self.database.run(get_case, public_id)
            first = [(photo.file_id, photo.file_unique_id) for photo in case.accepted_photos[:1]]
            uploads = await self.of_photos(bot, public_id, first)
        except (TelegramError, PhotoRejected, StorageError):
            log.info("no photo for the card of case %s", public_id)
            return None
        return uploads[0].data if uploads else None
