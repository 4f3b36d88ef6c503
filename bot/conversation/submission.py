"""The person's "Send for analysis" and "Try again": consent and fair use checked, the case
stored as submitted, "Analysing…" shown, and the analysis (bot/services/analysis.py) started."""

from __future__ import annotations

import logging
import uuid

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError

from bot.conversation.common import (
    BotContext,
    chat_id_of,
    language_of,
    say,
    user_id_of,
)
from bot.conversation.fair_use import refuse_if_over_limit
from bot.conversation.gate import show_gate
from bot.db.cases import get_case, mark_submitted
from bot.db.errors import ConsentRequired, StorageError
from bot.db.models import CaseStatus
from bot.i18n.texts import text

log = logging.getLogger(__name__)


async def submit(update: Update, context: BotContext, public_id: uuid.UUID) -> None:
    """The person pressed "Send for analysis" on the summary, which becomes "Analysing…"."""
    chat_id = chat_id_of(update)
    if await refuse_if_over_limit(context, chat_id, user_id_of(update), at_submission=True):
        return
    await _mark_and_start(update, context, public_id, again=False)


async def submit_again(update: Update, context: BotContext, value: str) -> None:
    """ "Try again" under a check whose answers could not be read: the same case, through
    consent and fair use again."""
    query = update.callback_query
    assert query is not None
    user_id, chat_id = user_id_of(update), chat_id_of(update)
    try:
        public_id = uuid.UUID(hex=value)
        case = await context.services.database.run(get_case, public_id)
        offered = (
            case.telegram_user_id == user_id
            and case.status is CaseStatus.FAILED
            and case.unreadable_answers > 0
        )
    except (ValueError, StorageError):
        offered = False
    if not offered:
        await query.answer(text("stale_button"))
        return
    await query.answer()
    if await refuse_if_over_limit(context, chat_id, user_id, at_submission=False):
        return
    await _mark_and_start(update, context, public_id, again=True)


async def _mark_and_start(
    update: Update, context: BotContext, public_id: uuid.UUID, *, again: bool
) -> None:
    """Store the case as submitted (consent checked in the same unit of work), then start it;
    without consent the gate is shown again, and a busy database is said as such."""
    chat_id = chat_id_of(update)
    try:
        case = await context.services.database.run(mark_submitted, public_id, again=again)
    except ConsentRequired:
        await say(context, chat_id, "consent_needed")
        await show_gate(context, chat_id, language_of(update), renewing=True)
        return
    except StorageError:
        await say(context, chat_id, "analysis_busy")
        return
    await _start(context, chat_id, public_id, len(case.accepted_photos), on=update.callback_query)


async def _start(
    context: BotContext,
    chat_id: int,
    public_id: uuid.UUID,
    count: int,
    *,
    on: CallbackQuery | None,
) -> None:
    """The case is stored as submitted: the message pressed becomes "Analysing…" (the result
    is edited into it later), and the analysis starts. It goes on even when "Analysing…" cannot
    be shown (the result then comes as a message of its own)."""
    status_message_id: int | None = None
    analysing = text("analysing", count=count)
    try:
        if on is not None and isinstance(on.message, Message):
            await on.edit_message_text(analysing, reply_markup=None)
            status_message_id = on.message.message_id
        else:
            # The result is edited into it, and an edit cannot protect what it shows.
            protect = context.services.settings.protect_results
            status_message_id = (
                await context.bot.send_message(chat_id, analysing, protect_content=protect)
            ).message_id
    except TelegramError as exc:
        log.info("'Analysing' not shown for case %s: %s", public_id, exc)
    context.services.analysis.start(context.bot, public_id, status_message_id)
