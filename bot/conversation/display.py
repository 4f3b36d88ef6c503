"""One living screen per case: edited in place on a press, sent anew below what the person sent.

The case stores the message id of its current screen (`Case.screen_message_id`), so an edit after
a restart still finds it, and what becomes of that message once a newer screen is sent below it
(`Case.screen_settle`): its buttons are taken away, or, for a photo acknowledgement that a newer
one replaces, it is deleted. So no message of the chat other than the current screen (and the
latest result) ever shows a button that no longer works.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from bot.conversation.common import BotContext
from bot.conversation.screens import CaseView, Screen, screen
from bot.db.errors import CaseNotFound, StorageError
from bot.db.models import Case
from bot.domain.steps import Step

log = logging.getLogger(__name__)

# Telegram's answer to an edit that changes nothing: the message already shows it.
NOT_MODIFIED = "message is not modified"


class Settle(StrEnum):
    """What becomes of a screen once a newer one is sent below it."""

    NOTHING = ""  # no buttons: it stays as it is, a record of what was asked
    STRIP = "strip"  # its buttons are taken away
    DELETE = "delete"  # a photo acknowledgement: the newer screen says everything it said


def settle_of(view: CaseView, shown: Screen) -> Settle:
    if view.step is Step.PHOTOS and view.photo_count:
        return Settle.DELETE
    return Settle.STRIP if shown.keyboard is not None else Settle.NOTHING


Rows = Sequence[Sequence[InlineKeyboardButton]]


def render(
    context: BotContext, view: CaseView, before: str | None = None, rows: Rows = ()
) -> Screen:
    """The case's current screen, after at most a sentence (e.g. "Kept."), with `rows` of
    buttons above its own (a photo's keep / replace)."""
    shown = screen(dataclasses.replace(view, clinic_sees_cases=context.services.triage is not None))
    body = shown.text if before is None else f"{before}\n\n{shown.text}"
    keyboard = shown.keyboard
    if rows:
        own = keyboard.inline_keyboard if keyboard is not None else ()
        keyboard = InlineKeyboardMarkup([*rows, *own])
    return Screen(body, keyboard)


def _case(session: Session, public_id: uuid.UUID) -> Case:
    case = session.scalar(select(Case).where(Case.public_id == public_id))
    if case is None:
        raise CaseNotFound(public_id)
    return case


def record_screen(
    session: Session, public_id: uuid.UUID, message_id: int, settle: Settle
) -> tuple[int | None, Settle]:
    """A unit of work: the case's screen is now `message_id`; the previous one and its fate."""
    case = _case(session, public_id)
    previous = (case.screen_message_id, Settle(case.screen_settle))
    case.screen_message_id, case.screen_settle = message_id, settle
    session.flush()
    return previous if previous[0] != message_id else (None, Settle.NOTHING)


def mark_screen(session: Session, public_id: uuid.UUID, settle: Settle) -> None:
    """A unit of work: the screen message stays, but what it shows now settles differently."""
    case = _case(session, public_id)
    case.screen_settle = settle
    session.flush()


async def settle(context: BotContext, chat_id: int, message_id: int | None, how: Settle) -> None:
    """Settle an older screen; one that is gone or too old to change is left as it is."""
    if message_id is None or how is Settle.NOTHING:
        return
    with contextlib.suppress(TelegramError):
        if how is Settle.DELETE:
            await context.bot.delete_message(chat_id, message_id)
        else:
            await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def show_below(
    context: BotContext,
    chat_id: int,
    view: CaseView,
    *,
    before: str | None = None,
    rows: Rows = (),
) -> Message:
    """The person sent something: the case's screen comes as a new message below it, and the
    screen before it is settled."""
    shown = render(context, view, before, rows)
    # The case's screen becomes its result (edited in; an edit cannot protect), so it is sent
    # protected when results are.
    message = await context.bot.send_message(
        chat_id,
        shown.text,
        reply_markup=shown.keyboard,
        protect_content=context.services.settings.protect_results,
    )
    try:
        previous, how = await context.services.database.run(
            record_screen, uuid.UUID(view.public_id), message.message_id, settle_of(view, shown)
        )
    except StorageError:
        # The case ended meanwhile (cancelled, erased): nothing of it to settle.
        return message
    await settle(context, chat_id, previous, how)
    return message


async def show_in_place(
    context: BotContext,
    query: CallbackQuery,
    view: CaseView,
    *,
    before: str | None = None,
) -> None:
    """A press on the screen: the message pressed becomes the case's next screen. If Telegram
    refuses the edit (the message is too old, or gone), the screen is sent anew."""
    shown = render(context, view, before)
    message = query.message
    if isinstance(message, Message):
        try:
            await query.edit_message_text(shown.text, reply_markup=shown.keyboard)
        except BadRequest as exc:
            if NOT_MODIFIED not in exc.message.lower():
                log.info("screen of case %s not edited (%s); sent anew", view.public_id, exc)
                await show_below(context, message.chat_id, view, before=before)
            return
        return
    if query.from_user is not None:
        await show_below(context, query.from_user.id, view, before=before)


async def show_stored(
    context: BotContext, chat_id: int, view: CaseView, message_id: int | None
) -> None:
    """Show the case's screen again in the stored screen message (after /language, say), or
    anew below when there is none or it cannot be edited."""
    if message_id is not None:
        shown = render(context, view)
        try:
            await context.bot.edit_message_text(
                shown.text, chat_id=chat_id, message_id=message_id, reply_markup=shown.keyboard
            )
            return
        except BadRequest as exc:
            if NOT_MODIFIED in exc.message.lower():
                return
    await show_below(context, chat_id, view)


async def edit_or_say(context: BotContext, query: CallbackQuery, chat_id: int, body: str) -> None:
    """The pressed screen becomes `body` with no buttons (a last word such as "Cancelled."), or
    `body` comes as a new message when the screen cannot be edited."""
    if isinstance(query.message, Message):
        try:
            await query.edit_message_text(body, reply_markup=None)
            return
        except BadRequest as exc:
            if NOT_MODIFIED in exc.message.lower():
                return
    await context.bot.send_message(chat_id, body)
