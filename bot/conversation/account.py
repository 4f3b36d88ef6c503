"""The person's own data and the service: /help, /privacy, /withdraw, /delete, /status
(/history and /export: bot/conversation/history.py, export.py).

/delete also deletes the person's cases from the clinic's group (bot/services/clinic_copies.py).
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from sqlalchemy.orm import Session
from telegram import Update

from bot.conversation.common import BotContext, chat_id_of, say, user_id_of
from bot.conversation.display import edit_or_say
from bot.conversation.screens import delete_keyboard, withdraw_keyboard
from bot.db.cases import Stopped, StoppedCase, stop_unsent
from bot.db.consent import consent_status, withdraw_consent
from bot.db.erasure import Erasure, erase_user
from bot.db.models import ConsentDecision, ConsentRecord
from bot.db.reminders import drop_reminders_of
from bot.i18n import current_language
from bot.i18n import formatting as fmt
from bot.i18n.texts import raw, text
from bot.services.analysis import settle_stopped
from bot.services.clinic_copies import clear_clinic_copies


async def help_command(update: Update, context: BotContext) -> None:
    """/help: how it works and the commands."""
    await say(context, chat_id_of(update), "help")


async def privacy(update: Update, context: BotContext) -> None:
    """/privacy: the terms, the person's consent status, how to withdraw and erase."""
    record, in_force = await context.services.database.run(consent_status, user_id_of(update))
    if record is None:
        status = text("privacy_consent_none")
    else:
        when = fmt.moment(record.recorded_at, context.services.settings.zone)
        if record.decision is ConsentDecision.WITHDRAWN:
            status = text("privacy_consent_withdrawn", when=when)
        elif record.decision is ConsentDecision.DECLINED:
            status = text("privacy_consent_declined", when=when)
        elif not in_force:
            status = text("privacy_consent_outdated")
        else:
            status = text("privacy_consent_accepted", when=when, version=record.terms_version)
    body = raw(
        "privacy",
        terms=html.escape(context.services.terms.text(current_language()), quote=False),
        consent=status,
    )
    await context.bot.send_message(chat_id_of(update), body)


async def withdraw(update: Update, context: BotContext) -> None:
    """/withdraw: ask first; the answer edits the question."""
    await context.bot.send_message(
        chat_id_of(update), text("withdraw_confirm"), reply_markup=withdraw_keyboard()
    )


async def on_withdraw_answer(update: Update, context: BotContext, value: str) -> None:
    """Yes: nothing of this person is sent from now on; checks waiting to be sent are
    cancelled in the same unit of work, and their analyses stopped. No: nothing changes."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    chat_type = update.effective_chat.type if update.effective_chat else None
    user_id, chat_id = user_id_of(update), chat_id_of(update)
    if value != "yes":
        await edit_or_say(context, query, chat_id, text("withdraw_kept"))
        return

    def withdrawing(session: Session) -> tuple[ConsentRecord | None, Stopped]:
        record = withdraw_consent(session, user_id, chat_type=chat_type)
        # A reminder would invite a check the person no longer agrees to.
        drop_reminders_of(session, user_id)
        return record, stop_unsent(session, user_id, reason="cancelled: consent withdrawn")

    record, stopped = await context.services.database.run(withdrawing)
    if record is None:
        await edit_or_say(context, query, chat_id, text("withdraw_nothing"))
        return
    await _stop(context, chat_id, stopped.cancelled)
    parts = [text("withdrawn")]
    if stopped.cancelled:
        parts.append(text("cancelled_waiting", count=len(stopped.cancelled)))
    if stopped.on_the_way:
        parts.append(text("withdraw_on_the_way"))
    await edit_or_say(context, query, chat_id, "\n\n".join(parts))


async def _stop(context: BotContext, chat_id: int, stopped: Iterable[StoppedCase]) -> None:
    stopped = list(stopped)
    await context.services.tasks.cancel_cases(case.public_id for case in stopped)
    for case in stopped:
        await settle_stopped(context.bot, chat_id, case.status_message_id)


async def delete(update: Update, context: BotContext) -> None:
    """/delete: ask before erasing."""
    await context.bot.send_message(
        chat_id_of(update), text("delete_confirm"), reply_markup=delete_keyboard()
    )


async def on_delete_answer(update: Update, context: BotContext, value: str) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    if value != "yes":
        await edit_or_say(context, query, chat_id_of(update), text("delete_kept"))
        return
    chat_type = update.effective_chat.type if update.effective_chat else None
    user_id, chat_id = user_id_of(update), chat_id_of(update)
    services = context.services
    clinic_chat_id = services.settings.triage_chat_id

    def erasing(session: Session) -> tuple[Stopped, Erasure]:
        stopped = stop_unsent(session, user_id, reason="cancelled: data erased")
        erasure = erase_user(session, user_id, chat_type=chat_type, clinic_chat_id=clinic_chat_id)
        return stopped, erasure

    stopped, erasure = await services.database.run(erasing)
    # Analyses on their way are stopped too: whatever the API answers goes nowhere now.
    await _stop(context, chat_id, (*stopped.cancelled, *stopped.on_the_way))
    services.forget_person(user_id)
    parts = [text("deleted")]
    if stopped.cancelled:
        parts.append(text("cancelled_waiting", count=len(stopped.cancelled)))
    if stopped.on_the_way:
        parts.append(text("delete_on_the_way"))
    if erasure.clinic_copies:
        parts.append(text("deleted_clinic_copies"))
    await edit_or_say(context, query, chat_id, "\n\n".join(parts))
    if erasure.clinic_copies:
        # Queued with the erasure, so a crash here only delays this; a note follows if Telegram
        # refuses to delete something.
        services.tasks.spawn(
            clear_clinic_copies(context.bot, services.database), name="clinic-copies"
        )


async def api_status(update: Update, context: BotContext) -> None:
    """/status: is the Model Dermatology API up?"""
    lines = [text("api_status_title")]
    for number, server in enumerate(await context.services.api.status(), start=1):
        if server.up:
            message = f" · {server.message}" if server.message else ""
            lines.append(
                text(
                    "api_status_up", number=number, count=server.current_users or 0, message=message
                )
            )
        else:
            lines.append(text("api_status_down", number=number, reason=server.reason or "?"))
    await context.bot.send_message(chat_id_of(update), "\n".join(lines))
