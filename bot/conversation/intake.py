"""Photos in: the handlers of photos and files, and the one answer to each batch of them.

The update only adds Telegram's file id to the case; checking the photo and waiting for the end
of an album is the photo intake's (bot/services/intake.py), which hands each batch's outcome to
`acknowledge_batch`: one message per batch, replacing the one before, that says which photos
were unusable and why, gives each quality warning its keep / replace buttons, then the count.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, PhotoSize, Update
from telegram.error import TelegramError

from bot.conversation.common import (
    SERVICES_KEY,
    BotApplication,
    BotContext,
    chat_id_of,
    open_view,
    say,
    user_id_of,
    view_of,
)
from bot.conversation.display import show_below, show_in_place
from bot.conversation.screens import CaseView, photo_warning_row
from bot.db.cases import (
    PhotoAdded,
    PhotoRef,
    add_photo,
    open_case,
    remove_photo,
    unchecked_photos,
)
from bot.db.errors import CaseFull
from bot.db.models import MAX_PHOTOS
from bot.domain.steps import Step
from bot.i18n import formatting as fmt
from bot.i18n import speaking
from bot.i18n.texts import text
from bot.imaging import PhotoRejected, RejectionReason
from bot.imaging.held import Key
from bot.imaging.quality import QualityIssue
from bot.services.container import Services
from bot.services.intake import BatchOutcome
from bot.views.buttons import CaseButton, case_ref, decode

log = logging.getLogger(__name__)

WARNING_TEXT = {
    QualityIssue.TOO_SMALL: "photo_warning_small",
    QualityIssue.BLURRY: "photo_warning_blurry",
    QualityIssue.TOO_DARK: "photo_warning_dark",
    QualityIssue.OVEREXPOSED: "photo_warning_overexposed",
}

# Telegram's own MIME types for files that are certainly not photos; anything else is
# downloaded and identified from its bytes, since names and MIME types often lie.
CERTAINLY_NOT_PHOTOS = ("video/", "audio/", "text/", "application/pdf", "application/zip")


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
    intake = services.intake

    async def acknowledge(outcome: BatchOutcome) -> None:
        await acknowledge_batch(context, chat_id, outcome)

    if added is not None and added.duplicate:
        intake.again(chat_id, public_id, acknowledge)
    else:
        # Fetched and checked in the background: a burst of photos then neither holds up
        # everyone's updates nor sits in memory as downloaded. The acknowledgement waits.
        position = None if added is None else added.photo.position
        intake.received(context.bot, chat_id, user_id, public_id, ref, position, acknowledge)


async def check_again_after_restart(application: BotApplication) -> None:
    """Photos stored but never acknowledged when the bot last stopped: check them now and
    acknowledge them as usual, in each person's language (there is no update to answer)."""
    services: Services = application.bot_data[SERVICES_KEY]
    for owner, public_id, photo in await services.database.run(unchecked_photos):
        context = BotContext(application, chat_id=owner, user_id=owner)
        language = await services.languages.of(owner)

        async def acknowledge(
            outcome: BatchOutcome,
            context: BotContext = context,
            chat_id: int = owner,
            language: str | None = language,
        ) -> None:
            with speaking(language):
                await acknowledge_batch(context, chat_id, outcome)

        ref = PhotoRef(
            photo.file_id, photo.file_unique_id, photo.file_size, photo.width, photo.height
        )
        services.intake.received(
            application.bot, owner, owner, public_id, ref, photo.position, acknowledge
        )


async def acknowledge_batch(context: BotContext, chat_id: int, outcome: BatchOutcome) -> None:
    """One message per batch, replacing the one before: the photos found unusable and why, a
    quality warning with its keep / replace buttons, then how many photos there are now (the
    photos' screen)."""
    view = view_of(outcome.case)
    lines = [rejection_text(error) for _, error in outcome.rejected]
    if outcome.refused:
        lines.append(text("photo_sixth_refused", max=MAX_PHOTOS))
    rows = []
    for position, issues in sorted(outcome.warnings):
        problems = ", ".join(text(WARNING_TEXT[issue]) for issue in issues)
        lines.append(text("photo_warning", number=position, problems=problems))
        rows.append(photo_warning_row(str(view.public_id), position))
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

    def decide(session: Session) -> tuple[bool, Key | None, CaseView | None]:
        """Whether the press is for the open case; the photo taken out and the view after."""
        case = open_case(session, user_id)
        if case is None or case_ref(str(case.public_id)) != pressed.ref:
            return False, None, None
        if keep:
            return True, None, None
        replaced = next(
            ((case.public_id, p.file_unique_id) for p in case.photos if p.position == position),
            None,
        )
        if not remove_photo(session, case.public_id, position):
            return False, replaced, None
        # Not past "Next patient": its press is the record of their permission.
        if case.step not in (Step.PHOTOS, Step.NEXT_PATIENT):
            # Back to photos, and to the summary after "Done": answers are kept.
            case.editing = case.step not in (Step.SUBJECT, Step.PATIENT_REF)
            case.step = Step.PHOTOS
        session.refresh(case, ["photos"])
        return True, replaced, view_of(case)

    valid, replaced, view = await context.services.database.run(decide)
    if valid and replaced is not None:
        context.services.held_photos.drop(replaced)
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
