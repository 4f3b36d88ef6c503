"""The person's language: chosen once per update, and changed with /language.

Before any other handler runs, `apply_language` sets the language of the update from the
person's profile (or, for someone new, from their Telegram setting). Every text, keyboard, the
consent gate, the result and the card then follow it (see bot.i18n).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.conversation.common import (
    BotContext,
    chat_id_of,
    user_id_of,
    view_of,
)
from bot.conversation.display import edit_or_say, show_stored
from bot.conversation.gate import show_gate
from bot.conversation.screens import CaseView
from bot.db.cases import open_case
from bot.db.consent import accepts_terms_in_force, current_consent
from bot.db.users import set_user_language
from bot.i18n import LANGUAGE_NAMES, resolve_language, set_language
from bot.i18n.texts import text
from bot.views.buttons import Kind, global_button

log = logging.getLogger(__name__)

BUTTON_KIND = Kind.LANGUAGE


async def apply_language(update: object, context: BotContext) -> None:
    """Speak the person's stored language for this update (Telegram's setting if none yet)."""
    if not isinstance(update, Update) or update.effective_user is None:
        set_language(None)
        return
    user = update.effective_user
    stored: str | None = None
    try:
        stored = await context.services.languages.of(user.id)
    except Exception:
        # The update is still answered (in the person's Telegram language) and the handler
        # that needs the database reports the failure itself.
        log.warning("could not read the language of a person", exc_info=True)
    set_language(stored or resolve_language(user.language_code))


def language_keyboard() -> InlineKeyboardMarkup:
    # Each language under its own name, so anyone can find theirs whatever is shown now.
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(name, callback_data=global_button(BUTTON_KIND, code))]
            for code, name in LANGUAGE_NAMES.items()
        ]
    )


async def choose(update: Update, context: BotContext) -> None:
    """/language: offer the supported languages as buttons."""
    await context.bot.send_message(
        chat_id_of(update), text("language_choose"), reply_markup=language_keyboard()
    )


async def on_choice(update: Update, context: BotContext, value: str) -> None:
    """A language button: store it, and go on in it at once, also in the open check."""
    query = update.callback_query
    assert query is not None
    if value not in LANGUAGE_NAMES:
        await query.answer(text("stale_button"))
        return
    user_id = user_id_of(update)

    def choose(session: Session) -> tuple[CaseView | None, bool]:
        """The open case's view (if any) and whether the person agreed to the terms in force."""
        set_user_language(session, user_id, value)
        case = open_case(session, user_id)
        agreed = accepts_terms_in_force(session, current_consent(session, user_id))
        return (None if case is None else view_of(case)), agreed

    view, agreed = await context.services.database.run(choose)
    context.services.languages.remember(user_id, value)
    set_language(value)
    await query.answer()
    chat_id = chat_id_of(update)
    # The choice becomes the answer, in the new language, with no buttons left.
    await edit_or_say(context, query, chat_id, text("language_set"))
    if view is None:
        if not agreed:
            # The terms in the new language: the consent then records the words they read.
            await show_gate(context, chat_id, value)
    else:
        # The case's screen, where it is, now in the new language.
        await show_stored(context, chat_id, view, view.screen_message_id)
