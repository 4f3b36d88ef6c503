"""The photo intake of each chat: photos checked as they arrive, acknowledged once per batch.

Each photo is downloaded once on arrival to check it (a corrupt file or a PDF is refused now, not
minutes later at submission, and blur or darkness can be pointed out while the person still has
the camera out). The update only adds Telegram's file id to the case; fetching and checking run in
the background, a few at a time, so that a burst of photos from many people neither holds up
everyone's updates nor sits in memory as downloaded. The prepared copy (512 px, no metadata) is
held in memory until the case is sent (bot/imaging/held.py). An album arrives as separate updates
with no end marker, so the acknowledgement waits for a short quiet time and for the checks, takes
the unusable photos out of the case in one unit of work, and hands the batch's outcome to the
handler that composes the answer (bot/conversation/intake.py).

A case's buttons go through `settled_then`, which waits for the chat's batch before the step may
change: a "Done" pressed meanwhile must not go on with a photo that may yet turn out unusable.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import TelegramError

from bot.db.cases import PhotoRef, open_case, settle_photos
from bot.db.database import Database
from bot.db.errors import StorageError
from bot.db.models import Case
from bot.imaging import DownloadBudget, PhotoPreparer, PhotoRejected
from bot.imaging.held import HeldPhotos, Key
from bot.imaging.quality import QualityIssue
from bot.services.tasks import TaskRegistry

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one acknowledgement answers: the batch's photos, sorted by what became of them."""

    case: Case  # the case as the acknowledgement's unit of work left it
    kept: list[int]  # positions of the batch's photos still in the case
    # Found unusable and taken out (by position; None: it could not be fetched from Telegram).
    rejected: list[tuple[int, PhotoRejected | None]]
    refused: int  # photos beyond the case's limit, never added
    warnings: list[tuple[int, tuple[QualityIssue, ...]]]  # kept photos that look poor


Acknowledge = Callable[[BatchOutcome], Awaitable[None]]


@dataclass
class _Batch:
    """Photos of one chat that arrived close together, waiting for one acknowledgement."""

    public_id: uuid.UUID
    added: list[int] = field(default_factory=list)  # positions
    refused: int = 0
    warnings: list[tuple[int, tuple[QualityIssue, ...]]] = field(default_factory=list)
    # Photos being fetched and prepared in the background, those found unusable, and the
    # prepared copies held for the API (their keys in HeldPhotos: case, file_unique_id).
    checking: list[asyncio.Task[None]] = field(default_factory=list)
    rejected: list[tuple[int, PhotoRejected | None]] = field(default_factory=list)
    held: list[Key] = field(default_factory=list)
    flush: asyncio.Task[None] | None = None


class _Received(io.BytesIO):
    """Keeps the bytes object `File.download_to_memory` writes, where BytesIO would copy it."""

    def __init__(self) -> None:
        super().__init__()
        self.data = b""

    def write(self, buffer: ReadableBuffer, /) -> int:
        self.data = bytes(buffer)  # the same object, when it is bytes already
        return len(self.data)


async def download(bot: Bot, file_id: str) -> bytes:
    """A file from Telegram, in memory once (`download_as_bytearray` and a conversion to bytes
    would hold up to three copies at once)."""
    telegram_file = await bot.get_file(file_id)
    received = _Received()
    await telegram_file.download_to_memory(received)
    return received.data


class PhotoIntake:
    def __init__(
        self,
        database: Database,
        preparer: PhotoPreparer,
        held: HeldPhotos,
        tasks: TaskRegistry,
        *,
        checks: asyncio.Semaphore,
        downloads: DownloadBudget,
        max_bytes: int,
        quiet_s: float,
    ) -> None:
        self.database, self.preparer, self.held, self.tasks = database, preparer, held, tasks
        self.checks, self.downloads = checks, downloads
        self.max_bytes, self.quiet_s = max_bytes, quiet_s
        self._batches: dict[int, _Batch] = {}

    def received(
        self,
        bot: Bot,
        chat_id: int,
        owner: int,
        public_id: uuid.UUID,
        ref: PhotoRef,
        position: int | None,
        acknowledge: Acknowledge,
    ) -> None:
        """A photo stored in the case at `position` (None: refused, the case is full): check
        it in the background and acknowledge the batch once it is quiet."""
        batch = self._batch(chat_id, public_id)
        if position is None:
            batch.refused += 1
        else:
            batch.added.append(position)
            check = self._check(bot, batch, owner, position, ref)
            batch.checking.append(self.tasks.spawn(check, name=f"photo-check-{chat_id}"))
        self._acknowledge_soon(chat_id, batch, acknowledge)

    def again(self, chat_id: int, public_id: uuid.UUID, acknowledge: Acknowledge) -> None:
        """The same photo sent twice: the batch is acknowledged as usual, nothing is added."""
        self._acknowledge_soon(chat_id, self._batch(chat_id, public_id), acknowledge)

    def _acknowledge_soon(self, chat_id: int, batch: _Batch, acknowledge: Acknowledge) -> None:
        if batch.flush is not None:
            batch.flush.cancel()
        batch.flush = self.tasks.spawn(
            self._acknowledge_later(chat_id, batch, acknowledge), name=f"photo-ack-{chat_id}"
        )

    async def settled(self, chat_id: int) -> None:
        """Wait until the photos this chat sent last are checked and acknowledged (the chat's
        updates are handled one at a time, so no new batch starts while this waits)."""
        batch = self._batches.get(chat_id)
        if batch is not None and batch.flush is not None and not batch.flush.done():
            await asyncio.wait([batch.flush])

    async def settled_then(self, chat_id: int, work: Callable[..., T], *args: Any) -> T:
        """Run the unit of work `work(session, *args)` once the chat's photos are settled: the
        one way a case's button changes the case."""
        await self.settled(chat_id)
        return await self.database.run(work, *args)

    def _batch(self, chat_id: int, public_id: uuid.UUID) -> _Batch:
        batch = self._batches.get(chat_id)
        if batch is None or batch.public_id != public_id:
            batch = self._batches[chat_id] = _Batch(public_id)
        return batch

    async def _check(
        self, bot: Bot, batch: _Batch, owner: int, position: int, ref: PhotoRef
    ) -> None:
        """Fetch and prepare one photo of `batch`: hold the copy for the API, or note why it
        cannot be used (the acknowledgement then takes it out of the case and says why)."""
        # Telegram says how big the file is; reserved before downloading, so the downloads
        # waiting for a worker are bounded in bytes, not only in number.
        size = ref.file_size or self.max_bytes
        async with self.checks, self.downloads.reserve(size):
            try:
                data = await download(bot, ref.file_id)
            except TelegramError:
                batch.rejected.append((position, None))
                return
            try:
                prepared = await self.preparer.prepare(data)
            except PhotoRejected as error:
                batch.rejected.append((position, error))
                return
        key = (batch.public_id, ref.file_unique_id)
        self.held.hold(key, prepared, sender=owner)
        batch.held.append(key)
        if prepared.quality.warnings:
            batch.warnings.append((position, prepared.quality.warnings))

    async def _acknowledge_later(
        self, chat_id: int, batch: _Batch, acknowledge: Acknowledge
    ) -> None:
        await asyncio.sleep(self.quiet_s)
        if batch.checking:
            # `wait`, not `gather`: a newer photo cancels this acknowledgement, never the checks.
            await asyncio.wait(batch.checking)
        if self._batches.get(chat_id) is batch:
            del self._batches[chat_id]
        rejected = sorted(batch.rejected, key=lambda item: item[0])
        kept = sorted(set(batch.added) - {position for position, _ in rejected})

        def settle(session: Session) -> Case | None:
            """Accept the usable photos and take the others out; the case, unless it is no
            longer open."""
            case = open_case(session, chat_id)
            if case is None or case.public_id != batch.public_id:
                return None
            with contextlib.suppress(StorageError):  # the case was cancelled meanwhile
                settle_photos(
                    session,
                    batch.public_id,
                    accepted=kept,
                    rejected=[position for position, _ in rejected],
                )
            return case

        case = await self.database.run(settle)
        if case is None:
            # Cancelled or erased meanwhile: keep nothing of it in memory.
            for key in batch.held:
                self.held.drop(key)
            return
        await acknowledge(BatchOutcome(case, kept, rejected, batch.refused, sorted(batch.warnings)))
