"""Where updates go: every handler is registered here, in one place, in a deliberate order."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.conversation import account, admin, gate, intake, questions
from bot.conversation.callbacks import CaseButton, GlobalButton, decode
from bot.conversation.common import BotApplication, BotContext, chat_id_of, say
from bot.conversation.texts import text

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS

COMMANDS = (
    ("new", "start a new skin check", gate.new),
    ("cancel", "stop and discard the current check", questions.cancel),
    ("history", "your recent checks", account.history),
    ("privacy", "what happens to your photos", account.privacy),
    ("withdraw", "withdraw your consent", account.withdraw),
    ("delete", "erase your data", account.delete),
    ("status", "is the AI service up?", account.api_status),
    ("help", "how it works", account.help_command),
)

BOT_COMMANDS = [BotCommand(name, description) for name, description, _ in COMMANDS]


async def on_button(update: Update, context: BotContext) -> None:
    """Every inline button press; unknown or stale data gets a short answer and no change."""
    query = update.callback_query
    assert query is not None
    pressed = decode(query.data)
    if isinstance(pressed, CaseButton):
        await questions.on_case_button(update, context, pressed)
    elif isinstance(pressed, GlobalButton) and pressed.kind == "consent":
        await gate.on_consent(update, context, pressed.value)
    elif isinstance(pressed, GlobalButton) and pressed.kind == "delete":
        await account.on_delete_answer(update, context, pressed.value)
    elif isinstance(pressed, GlobalButton) and pressed.kind == "new":
        await query.answer()
        await gate.begin(update, context)
    else:
        await query.answer(text("stale_button"))


async def in_group(update: Update, context: BotContext) -> None:
    """Groups: never collect anything there; point to the private chat."""
    link = f"https://t.me/{context.bot.username}" if context.bot.username else ""
    await say(context, chat_id_of(update), "private_only", link=link)


async def unknown_command(update: Update, context: BotContext) -> None:
    await say(context, chat_id_of(update), "unknown_command")


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (secrets are redacted by the log formatter) and reassure the person."""
    log.error("error while handling an update", exc_info=context.error)
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is not None and chat.type == ChatType.PRIVATE:
        try:
            await say(context, chat.id, "error_generic")
        except Exception:  # the error handler must never raise itself
            log.warning("could not tell the person about the error")


def register_handlers(application: BotApplication) -> None:
    # Group 0, first match wins. Groups come first so nothing below ever runs in a group.
    group_prompt = filters.COMMAND | filters.PHOTO | filters.Document.IMAGE
    application.add_handler(MessageHandler(GROUPS & group_prompt, in_group))
    application.add_handler(CommandHandler("start", gate.start, filters=PRIVATE))
    for name, _, callback in COMMANDS:
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    # Operators only; for anyone else /stats falls through to unknown_command below.
    operators = admin.operators(application.bot_data["settings"])
    application.add_handler(CommandHandler("stats", admin.stats, filters=PRIVATE & operators))
    application.add_handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(
        MessageHandler(PRIVATE & (filters.PHOTO | filters.Document.ALL), intake.on_photo)
    )
    application.add_handler(MessageHandler(PRIVATE & filters.TEXT, questions.on_text))
    application.add_handler(
        MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, intake.on_unsupported)
    )
    application.add_error_handler(on_error)
