"""/history: the sender's checks, a page at a time, each opening its details, in one message
edited in place. `/history PT-0417` lists only that patient code's checks."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.conversation.common import BotContext, chat_id_of, say, user_id_of
from bot.conversation.display import NOT_MODIFIED
from bot.conversation.questions import typed_patient_ref
from bot.db.history import HistoryPage, check_of, code_of, history_page
from bot.domain.advice import AdviceRules
from bot.i18n.texts import text
from bot.views.history import HistoryPress, check_view, history_page_view


async def history(update: Update, context: BotContext) -> None:
    """/history, or /history <patient code>: the newest page of the sender's checks."""
    chat_id, services = chat_id_of(update), context.services
    code: str | None = None
    if context.args:
        code = typed_patient_ref(" ".join(context.args))
        if code is None:
            await say(context, chat_id, "history_code_invalid")
            return
    page = await services.database.run(
        history_page, user_id_of(update), services.advice_rules, code=code
    )
    if not page.entries:
        if code is None:
            await say(context, chat_id, "history_empty")
        else:
            await say(context, chat_id, "history_empty_code", code=code)
        return
    # A filtered list's buttons name its code by its newest check (bot/db/history.py).
    body, keyboard = history_page_view(
        page, services.settings.zone, page.entries[0].row_id if code else 0
    )
    await context.bot.send_message(chat_id, body, reply_markup=keyboard)


def _page(
    session: Session, telegram_user_id: int, rules: AdviceRules, press: HistoryPress
) -> tuple[HistoryPage | None, bool]:
    """A unit of work: the page a button leads to, and whether the list changed meanwhile so
    that it is the newest page instead. None when the filter's code is gone with its checks."""
    code: str | None = None
    if press.code_of:
        code = code_of(session, telegram_user_id, press.code_of)
        if code is None:
            return None, True
    page = history_page(session, telegram_user_id, rules, top=press.top, code=code)
    if page.entries or not press.top:
        return page, False
    # Every check of that page is gone (retention, erasure): the newest ones, then.
    return history_page(session, telegram_user_id, rules, code=code), True


async def on_press(update: Update, context: BotContext, value: str) -> None:
    """A button of a /history message: another page, a check's details, or back to the list.
    A button whose checks are gone says so kindly and shows what there is now."""
    query = update.callback_query
    assert query is not None
    press = HistoryPress.decode(value)
    if press is None:
        await query.answer(text("stale_button"))
        return
    services, user_id = context.services, user_id_of(update)
    zone = services.settings.zone
    if press.check:
        entry = await services.database.run(check_of, user_id, press.check, services.advice_rules)
        if entry is not None:
            await query.answer()
            body, keyboard = check_view(
                entry, zone, HistoryPress(press.top, press.code_of), services.settings.result_top_n
            )
            await _show(update, context, body, keyboard)
            return
        # The check is gone: back to its list, saying so.
        press = HistoryPress(press.top, press.code_of)
        gone = True
    else:
        gone = False
    page, changed = await services.database.run(_page, user_id, services.advice_rules, press)
    await query.answer(text("history_changed") if gone or changed else None)
    if page is None or not page.entries:
        await _show(update, context, text("history_empty"), None)
        return
    listed, buttons = history_page_view(page, zone, press.code_of)
    await _show(update, context, listed, buttons)


async def _show(
    update: Update, context: BotContext, body: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """The pressed message becomes `body`; sent anew when it can no longer be edited."""
    query = update.callback_query
    assert query is not None
    if isinstance(query.message, Message):
        try:
            await query.edit_message_text(body, reply_markup=keyboard)
            return
        except BadRequest as exc:
            if NOT_MODIFIED in exc.message.lower():
                return
    await context.bot.send_message(chat_id_of(update), body, reply_markup=keyboard)
