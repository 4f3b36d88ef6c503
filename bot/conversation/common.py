"""What every handler needs: the typed context, the case's view, and showing a screen."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy.orm import Session, object_session
from telegram import MaybeInaccessibleMessage, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot

from bot.conversation.screens import CaseView
from bot.db.cases import checked_someone_else_last, open_case
from bot.db.models import Case, Subject
from bot.domain.steps import Step
from bot.i18n import current_language
from bot.i18n.texts import text
from bot.services.container import Services

SERVICES_KEY = "services"
# The process's Leadership (bot/runtime/leadership.py), set when the application is built.
LEADERSHIP_KEY = "leadership"


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with the shared services one attribute away."""

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services


BotApplication = Application[
    ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


def view_of(case: Case) -> CaseView:
    step = Step(case.step) if case.step else Step.SUBJECT
    session = object_session(case) if step is Step.SUBJECT else None
    return CaseView(
        public_id=str(case.public_id),
        step=step,
        photo_count=len(case.accepted_photos),
        subject_is_own=case.subject is Subject.OWN,
        patient_ref=case.patient_ref,
        others_first=session is not None and checked_someone_else_last(session, case.user_id),
        questionnaire=case.questionnaire,
        editing=case.editing,
        screen_message_id=case.screen_message_id,
    )


def open_view(session: Session, telegram_user_id: int) -> CaseView | None:
    """The view of the case the person is collecting, if any (a unit of work)."""
    case = open_case(session, telegram_user_id)
    return None if case is None else view_of(case)


async def say(context: BotContext, chat_id: int, key: str, **values: Any) -> Message:
    return await context.bot.send_message(chat_id, text(key, **values))


async def drop_buttons(message: MaybeInaccessibleMessage | None) -> None:
    """Remove the buttons of a message that has been answered, so it cannot be pressed again.

    Takes a callback query's message as it comes: one too old for Telegram to show us is left.
    """
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    # Too old to edit, already edited or deleted: the stale-button check still protects it.
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(reply_markup=None)


def user_id_of(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def chat_id_of(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


def language_of(update: Update) -> str:
    """The language the bot speaks to the person of `update` (set before any handler runs)."""
    del update
    return current_language()
