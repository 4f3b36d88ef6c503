"""Follow-ups: "Remind me in 2 weeks" under a result, the reminder's "Check it again", and
/reminders, which lists the reminders still to come and cancels them.

Every press edits the message it was pressed on: the result's reminder buttons become "Reminder
set" with a way to cancel (and back), /reminders' list shows what is left. A press on a button
whose reminder or check is gone answers in a short note and changes nothing else.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.config import Settings
from bot.conversation.common import (
    BotContext,
    chat_id_of,
    drop_buttons,
    language_of,
    user_id_of,
    view_of,
)
from bot.conversation.display import show_below
from bot.conversation.gate import show_gate
from bot.conversation.screens import CaseView
from bot.db.cases import open_case
from bot.db.consent import accepts_terms_in_force, current_consent
from bot.db.errors import CaseNotFound
from bot.db.fair_use import LimitReached, limit_reached
from bot.db.follow_ups import create_follow_up, earlier_case, follows_up
from bot.db.reminders import (
    ReminderView,
    cancel_reminder,
    checked_at,
    pending_reminders,
    reminder_of,
)
from bot.db.users import touch_user
from bot.i18n import formatting as fmt
from bot.i18n.texts import text
from bot.views.buttons import Kind, global_button
from bot.views.fair_use import limit_text
from bot.views.keyboards import new_case_keyboard
from bot.views.reminders import CANCEL, SET_INFO, offer_rows, replace_rows, set_rows


def _case_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        return None


async def _edit_rows(query: CallbackQuery, rows: list[list[InlineKeyboardButton]]) -> None:
    """The pressed result's reminder buttons become `rows`, its other buttons stay."""
    message = query.message
    if not isinstance(message, Message):
        return
    # Already showing it (a second press), or too old to change: nothing to do.
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(replace_rows(message.reply_markup, rows))


async def on_remind(update: Update, context: BotContext, value: str) -> None:
    """A reminder button under a result: set one ("<case>:<days>"), say when it is set
    ("<case>:i") or cancel it ("<case>:x")."""
    query = update.callback_query
    assert query is not None
    hex_id, _, action = value.partition(":")
    public_id = _case_id(hex_id)
    reminders = context.services.reminders
    zone = context.services.settings.zone
    user_id = user_id_of(update)
    if public_id is None:
        await query.answer(text("stale_button"))
        return
    if action == CANCEL:
        await context.services.database.run(cancel_reminder, user_id, public_id=public_id)
        await query.answer(text("reminder_cancelled"))
        await _edit_rows(query, offer_rows(public_id, reminders.choices))
        return
    if action == SET_INFO:
        pending = await context.services.database.run(reminder_of, user_id, public_id)
        if pending is None:
            await query.answer(text("reminder_not_pending"))
            await _edit_rows(query, offer_rows(public_id, reminders.choices))
            return
        await query.answer(text("reminder_set_note", when=fmt.moment(pending.due_at, zone)))
        return
    try:
        days = float(action)
    except ValueError:
        days = -1.0
    if not reminders.offered(days):
        # A button from before FOLLOW_UP_AFTER_DAYS changed.
        await query.answer(text("stale_button"))
        return
    try:
        reminder = await reminders.set(user_id, public_id, days)
    except CaseNotFound:
        await query.answer(text("follow_up_gone_note"))
        await _edit_rows(query, [])
        return
    await query.answer(text("reminder_set_note", when=fmt.moment(reminder.due_at, zone)))
    await _edit_rows(query, set_rows(public_id, reminder.due_at, zone))


@dataclass(frozen=True, slots=True)
class _FollowUpBegun:
    """Where "Check it again" finds the person."""

    agreed: bool
    gone: bool = False
    started: CaseView | None = None
    # The case being collected already: the follow-up itself (pressed twice), or another one.
    resumed: CaseView | None = None
    resumed_is_follow_up: bool = False
    limited: LimitReached | None = None
    earlier_at: dt.datetime | None = None


def _begin_follow_up(
    session: Session, user_id: int, language: str | None, settings: Settings, earlier: uuid.UUID
) -> _FollowUpBegun:
    touch_user(session, user_id, language)
    if not accepts_terms_in_force(session, current_consent(session, user_id)):
        return _FollowUpBegun(agreed=False)
    case = earlier_case(session, user_id, earlier)
    if case is None:
        return _FollowUpBegun(agreed=True, gone=True)
    when = checked_at(case)
    if (open_ := open_case(session, user_id)) is not None:
        same = follows_up(open_, earlier, session)
        return _FollowUpBegun(True, resumed=view_of(open_), resumed_is_follow_up=same)
    if limited := limit_reached(session, user_id, settings):
        return _FollowUpBegun(True, limited=limited)
    started = create_follow_up(session, case, language=language)
    return _FollowUpBegun(True, started=view_of(started), earlier_at=when)


async def on_check_again(update: Update, context: BotContext, value: str) -> None:
    """ "Check it again" under a reminder: a new check linked to the earlier one, at its photos
    (or the one in progress, or the terms first)."""
    query = update.callback_query
    assert query is not None
    earlier = _case_id(value)
    if earlier is None:
        await query.answer(text("stale_button"))
        return
    await query.answer()
    user_id, language, chat_id = user_id_of(update), language_of(update), chat_id_of(update)
    services = context.services
    begun = await services.database.run(
        _begin_follow_up, user_id, language, services.settings, earlier
    )
    if not begun.agreed:
        await show_gate(context, chat_id, language, renewing=True)
    elif begun.gone:
        await drop_buttons(query.message)
        await context.bot.send_message(
            chat_id, text("follow_up_gone"), reply_markup=new_case_keyboard()
        )
    elif begun.resumed is not None:
        before = "case_in_progress" if begun.resumed_is_follow_up else "follow_up_finish_first"
        await show_below(context, chat_id, begun.resumed, before=text(before))
    elif begun.limited is not None:
        await context.bot.send_message(chat_id, limit_text(begun.limited, at_submission=False))
    elif begun.started is not None and begun.earlier_at is not None:
        # Pressed once: another copy of the reminder (sent twice after a crash) or a second
        # press finds the follow-up in progress above.
        await drop_buttons(query.message)
        intro = text("follow_up_intro", date=fmt.date(begun.earlier_at, services.settings.zone))
        await show_below(context, chat_id, begun.started, before=intro)


def _list_screen(
    reminders: list[ReminderView], zone: dt.tzinfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not reminders:
        return text("reminders_empty"), None
    lines = [text("reminders_title"), ""]
    buttons = []
    for number, reminder in enumerate(reminders, start=1):
        ref = f" · {reminder.patient_ref}" if reminder.patient_ref else ""
        lines.append(
            text(
                "reminders_line",
                number=number,
                when=fmt.moment(reminder.due_at, zone),
                date=fmt.date(reminder.checked_at, zone),
                ref=ref,
            )
        )
        buttons.append(
            InlineKeyboardButton(
                text("reminders_cancel", number=number),
                callback_data=global_button(Kind.REMINDERS, str(reminder.id)),
            )
        )
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def reminders(update: Update, context: BotContext) -> None:
    """/reminders: the follow-up reminders still to come, each with a button to cancel it."""
    pending = await context.services.database.run(pending_reminders, user_id_of(update))
    body, keyboard = _list_screen(pending, context.services.settings.zone)
    await context.bot.send_message(chat_id_of(update), body, reply_markup=keyboard)


async def on_reminders_cancel(update: Update, context: BotContext, value: str) -> None:
    """A cancel button of /reminders: that reminder goes; the list is shown again in place."""
    query = update.callback_query
    assert query is not None
    user_id = user_id_of(update)
    database = context.services.database
    cancelled = value.isdigit() and await database.run(
        cancel_reminder, user_id, reminder_id=int(value)
    )
    await query.answer(text("reminder_cancelled" if cancelled else "reminder_not_pending"))
    pending = await database.run(pending_reminders, user_id)
    body, keyboard = _list_screen(pending, context.services.settings.zone)
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(body, reply_markup=keyboard)
