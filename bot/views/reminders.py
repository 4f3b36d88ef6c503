"""What reminders look like: the offer under a result, the reminder itself, /reminders."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import formatting as fmt
from bot.i18n.texts import text
from bot.views.buttons import Kind, decode, global_button

SET_INFO = "i"
CANCEL = "x"
MINUTES_PER_DAY = 24 * 60


def period(days: float) -> str:
    """ "2 weeks", "3 days", "36 hours", "1 minute": how long FOLLOW_UP_AFTER_DAYS days is."""
    if days >= 7 and days % 7 == 0:
        return text("reminder_weeks", count=int(days // 7))
    if days >= 1 and days == int(days):
        return text("reminder_days", count=int(days))
    hours = days * 24
    if hours >= 1 and abs(hours - round(hours)) < 1e-9:
        return text("reminder_hours", count=round(hours))
    return text("reminder_minutes", count=max(1, round(days * MINUTES_PER_DAY)))


def days_value(days: float) -> str:
    """The days as a button carries them."""
    return f"{days:g}"


def offer_rows(public_id: uuid.UUID, choices: Sequence[float]) -> list[list[InlineKeyboardButton]]:
    """ "📅 Remind me in 2 weeks", one button per FOLLOW_UP_AFTER_DAYS value, side by side."""
    if not choices:
        return []
    return [
        [
            InlineKeyboardButton(
                text("reminder_offer", after=period(days)),
                callback_data=global_button(Kind.REMIND, f"{public_id.hex}:{days_value(days)}"),
            )
            for days in choices
        ]
    ]


def set_rows(
    public_id: uuid.UUID, due_at: dt.datetime, zone: dt.tzinfo
) -> list[list[InlineKeyboardButton]]:
    """The offer once taken: when, and a way to cancel it."""
    return [
        [
            InlineKeyboardButton(
                text("reminder_set", date=fmt.date(due_at, zone)),
                callback_data=global_button(Kind.REMIND, f"{public_id.hex}:{SET_INFO}"),
            ),
            InlineKeyboardButton(
                text("reminder_cancel"),
                callback_data=global_button(Kind.REMIND, f"{public_id.hex}:{CANCEL}"),
            ),
        ]
    ]


def _is_reminder_row(row: Sequence[InlineKeyboardButton]) -> bool:
    for button in row:
        data = button.callback_data if isinstance(button.callback_data, str) else None
        pressed = decode(data)
        if pressed is not None and getattr(pressed, "kind", None) == Kind.REMIND:
            return True
    return False


def replace_rows(
    markup: InlineKeyboardMarkup | None, rows: Sequence[Sequence[InlineKeyboardButton]]
) -> InlineKeyboardMarkup:
    """The result's keyboard with its reminder rows replaced by `rows`, its other buttons (New
    check, Next patient...) kept as they are."""
    others = [
        list(row) for row in (markup.inline_keyboard if markup else ()) if not _is_reminder_row(row)
    ]
    return InlineKeyboardMarkup([*[list(row) for row in rows], *others])


def check_again_keyboard(public_id: uuid.UUID) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("reminder_check_again"),
                    callback_data=global_button(Kind.CHECK_AGAIN, public_id.hex),
                )
            ]
        ]
    )
