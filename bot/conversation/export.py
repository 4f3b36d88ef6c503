"""/export: the sender's own checks as a CSV file (bot/views/own_export.py), after asking.

The question says that the file is theirs to keep safe, and that neither /delete nor the
retention period can erase a file once it is sent. The answer edits the question before the file
goes, so a second press on it (a double tap) finds it answered and sends nothing again.
"""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, TelegramError

from bot.conversation.common import BotContext, chat_id_of, say, user_id_of
from bot.conversation.display import NOT_MODIFIED
from bot.db.base import utcnow
from bot.db.history import own_checks
from bot.i18n.texts import text
from bot.views.buttons import Kind, global_button
from bot.views.own_export import own_export_csv, own_export_filename

log = logging.getLogger(__name__)

YES, NO = "yes", "no"


def export_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("export_yes"), callback_data=global_button(Kind.EXPORT, YES)
                )
            ],
            [InlineKeyboardButton(text("export_no"), callback_data=global_button(Kind.EXPORT, NO))],
        ]
    )


async def export(update: Update, context: BotContext) -> None:
    """/export: ask first, saying what a file sent means."""
    lines = [text("export_confirm")]
    if context.services.settings.protect_results:
        lines.append(text("export_protected"))
    await context.bot.send_message(
        chat_id_of(update), "\n\n".join(lines), reply_markup=export_keyboard()
    )


async def on_answer(update: Update, context: BotContext, value: str) -> None:
    """ "Send me the file": the question becomes the answer first, then the file follows;
    "No": nothing is sent."""
    query = update.callback_query
    assert query is not None
    chat_id, services = chat_id_of(update), context.services
    if value not in (YES, NO):
        await query.answer(text("stale_button"))
        return
    entries = await services.database.run(own_checks, user_id_of(update), services.advice_rules)
    if value == NO:
        answer = text("export_cancelled")
    elif not entries:
        answer = text("export_nothing")
    else:
        answer = text("export_sending")
    if not await _answered(query, answer):
        # Already answered (a second press on the same question): nothing twice.
        await query.answer(text("export_answered"))
        return
    await query.answer()
    if value == NO or not entries:
        return
    zone = services.settings.zone
    document = InputFile(
        own_export_csv(entries, zone),
        filename=own_export_filename(utcnow().astimezone(zone).date()),
    )
    try:
        await context.bot.send_document(
            chat_id,
            document,
            caption=text("export_caption"),
            protect_content=services.settings.protect_results,
        )
    except TelegramError as exc:
        log.warning("the export of a person's checks was not sent: %s", exc)
        await say(context, chat_id, "export_failed")


async def _answered(query: CallbackQuery, body: str) -> bool:
    """Edit the question into `body`; False when it says so already (answered before)."""
    if not isinstance(query.message, Message):
        return True
    try:
        await query.edit_message_text(body, reply_markup=None)
    except BadRequest as exc:
        return NOT_MODIFIED not in exc.message.lower()
    return True
