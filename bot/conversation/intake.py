"""Photos in: checked when they arrive, kept as Telegram file ids, acknowledged once per batch.

Each photo is downloaded once on arrival to check it (a corrupt file or a PDF is refused now, not
minutes later at submission, and blur or darkness can be pointed out while the person still has
the camera out). The update only adds Telegram's file id to the case; fetching and checking run in
the background, a few at a time, so that a burst of photos from many people neither holds up
everyone's updates nor sits in memory as downloaded. The prepared copy (512 px, no metadata) is
held in memory until the case is sent (bot/imaging/held.py). An album arrives as separate updates
with no end marker, so acknowledgements wait for a short quiet time and for the checks, and answer
the whole batch at once: photos found unusable are taken out of the case and said so first.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    Update,
)
from telegram.error import TelegramError

from bot.conversation.callbacks import CaseButton, case_ref, decode
from bot.conversation.common import (
    BotContext,
    chat_id_of,
    open_view,
    say,
    user_id_of,
    view_of,
)
from bot.conversation.display import show_below, show_in_place
from bot.conversation.screens import MAX_PHOTOS, CaseView, photo_warning_row
from bot.db.cases import PhotoAdded, PhotoRef, add_photo, open_case, remove_photo
from bot.db.errors import CaseFull, StorageError
from bot.domain.steps import Step
from bot.i18n import formatting as fmt
from bot.i18n.texts import text
from bot.imaging import PhotoRejected, RejectionReason
from bot.imaging.quality import QualityIssue

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

BATCHES = "photo_batches"

WARNING_TEXT = {
    QualityIssue.TOO_SMALL: "photo_warning_small",
    QualityIssue.BLURRY: "photo_warning_blurry",
    QualityIssue.TOO_DARK: "photo_warning_dark",
    QualityIssue.OVEREXPOSED: "photo_warning_overexposed",
}

# Telegram's own MIME types for files that are certainly not photos; anything else is
# downloaded and identified from its bytes, since names and MIME types often lie.
CERTAINLY_NOT_PHOTOS = ("video/", "audio/", "text/", "application/pdf", "application/zip")


@dataclass
class PhotoBatch:
    """Photos of one chat that arrived close together, waiting for one acknowledgement."""

    public_id: uuid.UUID
    added: list[int] = field(default_factory=list)  # positions
    refused: int = 0
    warnings: list[tuple[int, tuple[QualityIssue, ...]]] = field(default_factory=list)
    # Photos being fetched and prepared in the background, those found unusable (by position;
    # None: it could not be fetched from Telegram), and the prepared copies held for the API
    # (their keys in HeldPhotos: sender, file_unique_id).
    checking: list[asyncio.Task[None]] = field(default_factory=list)
    rejected: list[tuple[int, PhotoRejected | None]] = field(default_factory=list)
    held: list[tuple[int, str]] = field(default_factory=list)
    flush: asyncio.Task[None] | None = None


def rejection_text(error: PhotoRejected | None) -> str:
    if error is None:
        return text("photo_download_failed")
    match error.reason:
        case RejectionReason.NOT_AN_IMAGE:
            return text("photo_not_image")
        case RejectionReason.UNSUPPORTED_FORMAT | RejectionReason.ANIMATED:
            return text("photo_unsupported")
        case RejectionReason.TOO_MANY_BYTES:
            return text(
                "photo_too_big",
                size=_megabytes(error.size_bytes or 0),
                limit=_megabytes(error.max_bytes or 0),
            )
        case RejectionReason.TOO_MANY_PIXELS:
            return text("photo_too_many_pixels")
    return text("photo_corrupt")


def _megabytes(size: int) -> str:
    return fmt.megabytes(size)


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


async def on_photo(update: Update, context: BotContext) -> None:
    """A photo, or an image sent as a file (uncompressed)."""
    message = update.effective_message
    assert message is not None
    chat_id = chat_id_of(update)
    if message.photo:
        size = size_to_fetch(message.photo, context.services.settings.photo_side_px)
        ref = PhotoRef(size.file_id, size.file_unique_id, size.file_size, size.width, size.height)
    elif message.document is not None:
        document = message.document
        if (document.mime_type or "").startswith(CERTAINLY_NOT_PHOTOS):
            await say(context, chat_id, "photo_not_image")
            return
        ref = PhotoRef(document.file_id, document.file_unique_id, document.file_size)
    else:
        return
    await take_photo(update, context, ref)


def size_to_fetch(sizes: Sequence[PhotoSize], side: int) -> PhotoSize:
    """The smallest of Telegram's sizes of a photo that still gives a whole `side` px square.

    Telegram keeps every photo in several sizes (90, 320, 800, 1280 and 2560 px on the longer
    side). The API gets a `side` px centre square, so anything bigger only costs download and
    decoding: a 1280 px photo has 2.6 times the pixels of its 800 px size, and takes longer to
    prepare (tests/perf/bench_imaging.py --choices measures both; docs/photos.md). A photo with
    no size that big is taken whole.
    """
    covering = [size for size in sizes if min(size.width, size.height) >= side]
    if covering:
        return min(covering, key=lambda size: size.width * size.height)
    return max(sizes, key=lambda size: size.width * size.height)


async def take_photo(update: Update, context: BotContext, ref: PhotoRef) -> None:
    services = context.services
    user_id, chat_id = user_id_of(update), chat_id_of(update)
    max_bytes = services.settings.photo_max_bytes
    too_big = ref.file_size is not None and ref.file_size > max_bytes

    def store(session: Session) -> tuple[uuid.UUID | None, PhotoAdded | None]:
        """The open case, and the photo added to it (None: no room, or too big to keep)."""
        case = open_case(session, user_id)
        if case is None or too_big:
            return (None if case is None else case.public_id), None
        try:
            return case.public_id, add_photo(session, case.public_id, ref)
        except CaseFull:
            return case.public_id, None

    try:
        public_id, added = await services.database.run(store)
    except SQLAlchemyError as failure:
        # E.g. the file locked by another program for longer than the bot waits. Nothing of this
        # photo was stored, so the person must not believe it was, nor wait for its receipt.
        reason = getattr(failure, "orig", None) or failure
        log.warning("a photo was not stored (%s); the person is asked to send it again", reason)
        await say(context, chat_id, "photo_not_saved")
        return
    if public_id is None:
        await say(context, chat_id, "idle_hint")
        return
    if too_big:
        error = PhotoRejected.too_many_bytes(ref.file_size or 0, max_bytes)
        await context.bot.send_message(chat_id, rejection_text(error))
        return
    batch = _batch(context, chat_id, public_id)
    if added is None:
        batch.refused += 1
    elif not added.duplicate:
        # Fetched and checked in the background (`_check`): a burst of photos then neither holds
        # up everyone's updates nor sits in memory as downloaded. The acknowledgement waits.
        position = added.photo.position
        batch.added.append(position)
        check = _check(context, batch, user_id, position, ref)
        batch.checking.append(services.spawn(check, name=f"photo-check-{chat_id}"))
    _schedule(context, chat_id, batch)


async def _check(
    context: BotContext, batch: PhotoBatch, user_id: int, position: int, ref: PhotoRef
) -> None:
    """Fetch and prepare one photo of `batch`: hold the copy for the API, or note why it cannot
    be used (the acknowledgement then takes it out of the case and says why)."""
    services = context.services
    # Telegram says how big the file is; reserved before downloading, so the downloads waiting
    # for a worker are bounded in bytes, not only in number.
    size = ref.file_size or services.settings.photo_max_bytes
    async with services.photo_checks, services.photo_downloads.reserve(size):
        try:
            data = await download(context.bot, ref.file_id)
        except TelegramError:
            batch.rejected.append((position, None))
            return
        try:
            prepared = await services.photos.prepare(data)
        except PhotoRejected as error:
            batch.rejected.append((position, error))
            return
    services.held_photos.hold(user_id, ref.file_unique_id, prepared)
    batch.held.append((user_id, ref.file_unique_id))
    if prepared.quality.warnings:
        batch.warnings.append((position, prepared.quality.warnings))


async def photos_settled(context: BotContext, chat_id: int) -> None:
    """Wait until the photos this chat sent last are checked and acknowledged.

    A button pressed meanwhile (an earlier "Done") must not go on with a photo that may yet turn
    out unusable. The chat's updates are handled one at a time, so no new batch starts while this
    waits.
    """
    batches: dict[int, PhotoBatch] = context.services.scratch.get(BATCHES, {})
    batch = batches.get(chat_id)
    if batch is not None and batch.flush is not None and not batch.flush.done():
        await asyncio.wait([batch.flush])


def _batch(context: BotContext, chat_id: int, public_id: uuid.UUID) -> PhotoBatch:
    batches: dict[int, PhotoBatch] = context.services.scratch.setdefault(BATCHES, {})
    batch = batches.get(chat_id)
    if batch is None or batch.public_id != public_id:
        batch = batches[chat_id] = PhotoBatch(public_id)
    return batch


def _schedule(context: BotContext, chat_id: int, batch: PhotoBatch) -> None:
    if batch.flush is not None:
        batch.flush.cancel()
    batch.flush = context.services.spawn(
        _acknowledge_later(context, chat_id, batch), name=f"photo-ack-{chat_id}"
    )


async def _acknowledge_later(context: BotContext, chat_id: int, batch: PhotoBatch) -> None:
    services = context.services
    await asyncio.sleep(services.settings.album_quiet_s)
    if batch.checking:
        # `wait`, not `gather`: a newer photo cancels this acknowledgement, never the checks.
        await asyncio.wait(batch.checking)
    batches: dict[int, PhotoBatch] = services.scratch.get(BATCHES, {})
    if batches.get(chat_id) is batch:
        del batches[chat_id]
    rejected = sorted(batch.rejected, key=lambda item: item[0])

    def settle(session: Session) -> CaseView | None:
        """Take the unusable photos out; the case's view, unless it is no longer open."""
        for position, _ in rejected:
            with contextlib.suppress(StorageError):  # the case was cancelled meanwhile
                remove_photo(session, batch.public_id, position)
        case = open_case(session, chat_id)
        if case is None or case.public_id != batch.public_id:
            return None
        return view_of(case)

    view = await services.database.run(settle)
    if view is None:
        # Cancelled or erased meanwhile: keep nothing of it in memory.
        for owner, file_unique_id in batch.held:
            services.held_photos.drop(owner, file_unique_id)
        return
    await acknowledge(context, chat_id, view, batch, rejected)


async def acknowledge(
    context: BotContext,
    chat_id: int,
    view: CaseView,
    batch: PhotoBatch,
    rejected: list[tuple[int, PhotoRejected | None]],
) -> None:
    """One message per batch, replacing the one before: the photos found unusable and why, a
    quality warning with its keep / replace buttons, then how many photos there are now."""
    lines = [rejection_text(error) for _, error in rejected]
    if batch.refused:
        lines.append(text("photo_sixth_refused", max=MAX_PHOTOS))
    rows = []
    for position, issues in sorted(batch.warnings):
        problems = ", ".join(text(WARNING_TEXT[issue]) for issue in issues)
        lines.append(text("photo_warning", number=position, problems=problems))
        rows.append(photo_warning_row(str(batch.public_id), position))
    await show_below(context, chat_id, view, before="\n\n".join(lines) or None, rows=rows)


async def on_photo_decision(update: Update, context: BotContext, pressed: CaseButton) -> None:
    """ "Keep it" / "Replace it" under a quality warning."""
    query = update.callback_query
    assert query is not None
    keep = pressed.value.startswith("keep")
    try:
        position = int(pressed.value.removeprefix("keep").removeprefix("replace"))
    except ValueError:
        position = 0
    user_id = user_id_of(update)

    def decide(session: Session) -> tuple[bool, str | None, CaseView | None]:
        """Whether the press is for the open case; the photo taken out and the view after."""
        case = open_case(session, user_id)
        if case is None or case_ref(str(case.public_id)) != pressed.ref:
            return False, None, None
        if keep:
            return True, None, None
        replaced = next((p.file_unique_id for p in case.photos if p.position == position), None)
        if not remove_photo(session, case.public_id, position):
            return False, replaced, None
        if case.step != Step.PHOTOS:
            # Back to photos, and to the summary after "Done": answers are kept.
            case.editing = case.step not in (Step.SUBJECT, Step.PATIENT_REF)
            case.step = Step.PHOTOS
        session.refresh(case, ["photos"])
        return True, replaced, view_of(case)

    valid, replaced, view = await context.services.database.run(decide)
    if valid and replaced is not None:
        context.services.held_photos.drop(user_id, replaced)
    if not valid:
        await query.answer(text("stale_button"))
        return
    await query.answer(text("photo_kept") if keep else None)
    if view is not None:
        await show_in_place(context, query, view, before=text("photo_removed", number=position))
    elif isinstance(query.message, Message) and query.message.reply_markup is not None:
        # Kept: only that photo's buttons go; the acknowledgement and its other buttons stay.
        decided = {f"keep{position}", f"replace{position}"}
        rows = [
            row
            for row in query.message.reply_markup.inline_keyboard
            if not any(_value(button) in decided for button in row)
        ]
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))


def _value(button: InlineKeyboardButton) -> str | None:
    pressed = decode(button.callback_data if isinstance(button.callback_data, str) else None)
    return pressed.value if isinstance(pressed, CaseButton) else None


UNSUPPORTED_KIND = (
    ("video", "media_video"),
    ("video_note", "media_video"),
    ("animation", "media_video"),
    ("sticker", "media_sticker"),
    ("voice", "media_voice"),
    ("audio", "media_audio"),
    ("location", "media_location"),
    ("venue", "media_location"),
    ("contact", "media_contact"),
)


async def on_unsupported(update: Update, context: BotContext) -> None:
    """Videos, stickers, voice and the like: say what works instead; the flow goes on."""
    message = update.effective_message
    assert message is not None
    kind = next((key for attr, key in UNSUPPORTED_KIND if getattr(message, attr, None)), None)
    chat_id = chat_id_of(update)
    sentence = text("unsupported_media", kind=text(kind or "media_other"))
    view = await context.services.database.run(open_view, user_id_of(update))
    if view is None:
        await context.bot.send_message(chat_id, f"{sentence}\n\n{text('idle_hint')}")
    else:
        await show_below(context, chat_id, view, before=sentence)
