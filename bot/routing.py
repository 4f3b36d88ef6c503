"""Where updates go: every handler is registered here, in one place, in a deliberate order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.clinic import handlers as triage
from bot.conversation import (
    account,
    admin,
    export,
    follow_up,
    gate,
    history,
    intake,
    language,
    questions,
    submission,
)
from bot.conversation.common import BotApplication, BotContext, chat_id_of, say
from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED
from bot.i18n.texts import text, text_in
from bot.runtime.leadership import NotLeading
from bot.views import clinic_buttons as triage_callbacks
from bot.views.buttons import CaseButton, GlobalButton, Kind, decode, pattern

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS

# Each command's description in Telegram's menu is the message "command_<name>".
COMMANDS = (
    ("new", gate.new),
    ("cancel", questions.cancel),
    ("history", history.history),
    ("export", export.export),
    ("reminders", follow_up.reminders),
    ("privacy", account.privacy),
    ("withdraw", account.withdraw),
    ("delete", account.delete),
    ("status", account.api_status),
    ("language", language.choose),
    ("help", account.help_command),
)


def bot_commands(language: str = DEFAULT_LANGUAGE) -> list[BotCommand]:
    """The command menu in `language` (for setMyCommands with that language_code)."""
    return [BotCommand(name, text_in(language, f"command_{name}")) for name, _ in COMMANDS]


BOT_COMMANDS = bot_commands()


def localised_commands() -> dict[str, list[BotCommand]]:
    """language_code -> menu: Telegram shows people whose app is in that language its menu."""
    return {code: bot_commands(code) for code in SUPPORTED if code != DEFAULT_LANGUAGE}


def _case_press(update: Update) -> CaseButton | None:
    query = update.callback_query
    pressed = decode(query.data if query is not None else None)
    return pressed if isinstance(pressed, CaseButton) else None


def _global_value(update: Update) -> str:
    query = update.callback_query
    pressed = decode(query.data if query is not None else None)
    return pressed.value if isinstance(pressed, GlobalButton) else ""


def _with_value(
    handler: Callable[[Update, BotContext, str], Coroutine[Any, Any, None]],
) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """The press handler of a family of global buttons: `handler` gets the button's value."""

    async def on_press(update: Update, context: BotContext) -> None:
        await handler(update, context, _global_value(update))

    return on_press


async def on_case_button(update: Update, context: BotContext) -> None:
    """A button of a case's screen."""
    pressed = _case_press(update)
    if pressed is None:
        await stale(update, context)
        return
    await questions.on_case_button(update, context, pressed)


async def on_new_check(update: Update, context: BotContext) -> None:
    """ "New check" under a result."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await gate.begin(update, context)


async def on_next_patient(update: Update, context: BotContext) -> None:
    await gate.next_patient(update, context)


async def stale(update: Update, context: BotContext) -> None:
    """Data this bot never made (or an older format): a short answer and no change."""
    del context
    query = update.callback_query
    assert query is not None
    await query.answer(text("stale_button"))


# Each family of buttons and what its press does (the data's shape: bot/views/buttons.py).
BUTTON_FAMILIES = (
    ("case", on_case_button),
    (Kind.CONSENT, _with_value(gate.on_consent)),
    (Kind.DELETE, _with_value(account.on_delete_answer)),
    (Kind.WITHDRAW, _with_value(account.on_withdraw_answer)),
    (Kind.LANGUAGE, _with_value(language.on_choice)),
    (Kind.AGAIN, _with_value(submission.submit_again)),
    (Kind.NEW, on_new_check),
    (Kind.NEXT_PATIENT, on_next_patient),
    (Kind.HISTORY, _with_value(history.on_press)),
    (Kind.EXPORT, _with_value(export.on_answer)),
    (Kind.REMIND, _with_value(follow_up.on_remind)),
    (Kind.CHECK_AGAIN, _with_value(follow_up.on_check_again)),
    (Kind.REMINDERS, _with_value(follow_up.on_reminders_cancel)),
)


async def in_group(update: Update, context: BotContext) -> None:
    """Groups: never collect anything there; point to the private chat."""
    link = f"https://t.me/{context.bot.username}" if context.bot.username else ""
    await say(context, chat_id_of(update), "private_only", link=link)


async def unknown_command(update: Update, context: BotContext) -> None:
    await say(context, chat_id_of(update), "unknown_command")


async def on_edit(update: Update, context: BotContext) -> None:
    """An edited message is never an answer or a command (nor a clinician's reply relayed again):
    in a private chat the person is told to send it anew; elsewhere it is left alone."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await say(context, chat.id, "edit_ignored")
    raise ApplicationHandlerStop


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (secrets are redacted by the log formatter) and reassure the person."""
    if isinstance(context.error, NotLeading):
        # Its leadership lapsed while the update was in hand: the lapse was logged, and nothing
        # can reach the person from here (the update is the next leader's to miss or handle).
        log.warning("an update in hand was left: this process does not lead any more")
        return
    log.error("error while handling an update", exc_info=context.error)
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is not None and chat.type == ChatType.PRIVATE:
        try:
            await say(context, chat.id, "error_generic")
        except Exception:  # the error handler must never raise itself
            log.warning("could not tell the person about the error")


def register_triage(application: BotApplication, chat_id: int | None) -> None:
    """Group -1, before the conversation: each handler here either takes the update (and stops
    it) or lets it through to group 0. /groupid works in any group, to set triage up."""
    first = -1
    application.add_handler(CommandHandler("groupid", triage.group_id, filters=GROUPS), group=first)
    if chat_id is None:
        return
    clinic = filters.Chat(chat_id)
    application.add_handler(
        CallbackQueryHandler(triage.on_press, pattern=triage_callbacks.PATTERN), group=first
    )
    application.add_handler(CommandHandler("queue", triage.queue, filters=clinic), group=first)
    application.add_handler(
        MessageHandler(
            clinic & filters.REPLY & filters.TEXT & ~filters.COMMAND, triage.from_clinician
        ),
        group=first,
    )
    application.add_handler(MessageHandler(clinic, triage.in_clinic), group=first)
    # The person's answers to the clinic; texts not meant for it go on to the conversation.
    application.add_handler(
        MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, triage.from_person), group=first
    )


def register_handlers(application: BotApplication, *, triage_chat_id: int | None = None) -> None:
    # Group -2 runs first for every update: the language everything below speaks. (One handler
    # per group runs, so it cannot share a group with the triage handlers.)
    application.add_handler(TypeHandler(Update, language.apply_language), group=-2)
    # Message handlers match edits too: an edit of an old message would be fed to whatever step
    # the case is at now, or run the command it was edited into. So edits are taken first in
    # group -1, before the triage relay and the conversation, and stop there.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edit), group=-1)
    register_triage(application, triage_chat_id)
    # Group 0, first match wins. Groups come first so nothing below ever runs in a group.
    group_prompt = filters.COMMAND | filters.PHOTO | filters.Document.IMAGE
    application.add_handler(MessageHandler(GROUPS & group_prompt, in_group))
    application.add_handler(CommandHandler("start", gate.start, filters=PRIVATE))
    for name, callback in COMMANDS:
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    # Operators only; for anyone else /stats falls through to unknown_command below.
    operators = admin.operators(application.bot_data["settings"])
    application.add_handler(CommandHandler("stats", admin.stats, filters=PRIVATE & operators))
    application.add_handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    for kind, on_press in BUTTON_FAMILIES:
        application.add_handler(CallbackQueryHandler(on_press, pattern=pattern(kind)))
    # Anything else pressed: data from an older version of the bot, or forged.
    application.add_handler(CallbackQueryHandler(stale))
    application.add_handler(
        MessageHandler(PRIVATE & (filters.PHOTO | filters.Document.ALL), intake.on_photo)
    )
    application.add_handler(MessageHandler(PRIVATE & filters.TEXT, questions.on_text))
    application.add_handler(
        MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, intake.on_unsupported)
    )
    application.add_error_handler(on_error)
