"""Keyboards under the messages the services send: the result and a check that failed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.follow_up import offers_reminder
from bot.domain.result import CaseResult
from bot.i18n.texts import text
from bot.views.buttons import Kind, global_button
from bot.views.reminders import offer_rows


def result_keyboard(result: CaseResult, *, reminders: Sequence[float] = ()) -> InlineKeyboardMarkup:
    """Under a result: what the person can do next with it. `reminders`: the days after which
    a follow-up reminder may be asked for (FOLLOW_UP_AFTER_DAYS), offered in the tiers that say
    to watch it; a field worker's result offers the next patient first."""
    offered = offer_rows(result.public_id, reminders) if offers_reminder(result.advice.tier) else []
    rows = [*offered, *new_case_keyboard().inline_keyboard]
    if result.for_someone_else:
        rows.insert(0, (next_patient_button(),))
    return InlineKeyboardMarkup(rows)


def next_patient_button() -> InlineKeyboardButton:
    """A new check for someone else, their code asked first (bot/conversation/gate.py)."""
    return InlineKeyboardButton(
        text("next_patient_button"), callback_data=global_button(Kind.NEXT_PATIENT)
    )


def new_case_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text("button_new_case"), callback_data=global_button(Kind.NEW))]]
    )


def try_again_keyboard(public_id: uuid.UUID) -> InlineKeyboardMarkup:
    """Under a check whose answers could not be read: send the same check again, or a new one."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("button_try_again"), callback_data=global_button(Kind.AGAIN, public_id.hex)
                )
            ],
            [InlineKeyboardButton(text("button_new_case"), callback_data=global_button(Kind.NEW))],
        ]
    )
