"""Telegram side of triage: presses on cards, /queue, and messages relayed both ways.

Relay routing, so the normal conversation never loses a typed answer: a clinician's reply to a
card (or to a relayed message) goes to the person. The person's text goes to the clinic when it
is a reply to a message from the clinic, at any time; or, when no check is being collected (when
the bot would otherwise only say how to start one), to the clinic that last wrote to them within
`FREE_TEXT_WINDOW`. Everything else goes on to the conversation's handlers. Each message from the
clinic tells the person to answer by replying to it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.conversation.common import BotContext, drop_buttons, say, view_of
from bot.conversation.display import show_below
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.cases import open_case
from bot.db.errors import CaseAlreadyOpen
from bot.db.models import TriageDecision, TriageDirection, TriagePost
from bot.i18n.texts import text
from bot.views.clinic_buttons import CHANGE, NEW_PHOTOS, TriageButton, decode
from bot.views.clinic_card import decision_label, duration
from bot.views.result import short_case_id

log = logging.getLogger(__name__)

FREE_TEXT_WINDOW = dt.timedelta(days=7)
RELAY_MAX = 3500  # leaves room for the label within Telegram's 4096 characters


def _display_name(update: Update) -> str:
    user = update.effective_user
    return user.full_name if user is not None else "?"


async def _refresh_card(context: BotContext, post_id: int, *, choosing: bool = False) -> None:
    services = context.services
    desk = services.triage
    assert desk is not None

    def read(session: Session) -> tuple[int, str, InlineKeyboardMarkup | None] | None:
        post = store.get_post(session, post_id)
        if post is None or post.card_message_id is None:
            return None
        body, keyboard = desk.render(session, post, choosing=choosing)
        return post.card_message_id, body, keyboard

    card = await services.database.run(read)
    if card is None:
        return
    card_id, body, keyboard = card
    try:
        await context.bot.edit_message_text(
            body, chat_id=desk.chat_id, message_id=card_id, reply_markup=keyboard
        )
    except BadRequest as exc:  # "not modified", or too old to edit: the record is what counts
        log.info("triage: card not edited (%s)", exc.message)


async def on_press(update: Update, context: BotContext) -> None:
    """A triage button: a clinician's decision or change on a card, or the person's reopen."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    pressed = decode(query.data)
    desk = context.services.triage
    if pressed is None or desk is None:
        await query.answer(text("stale_button"))
        raise ApplicationHandlerStop
    if pressed.action == NEW_PHOTOS:
        await _reopen(update, context, pressed)
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is None or chat.id != desk.chat_id:
        await query.answer(text("stale_button"))
        raise ApplicationHandlerStop
    if not await desk.is_clinician(context.bot, update.effective_user.id):
        await query.answer(text("triage_not_clinician"), show_alert=True)
        raise ApplicationHandlerStop
    await desk.settled()
    if pressed.action == CHANGE:
        await _change(update, context, pressed)
    else:
        await _decide(update, context, pressed)
    raise ApplicationHandlerStop


async def _change(update: Update, context: BotContext, pressed: TriageButton) -> None:
    query = update.callback_query
    assert query is not None
    post = await context.services.database.run(store.get_post, pressed.post_id)
    if post is None:
        await query.answer(text("triage_case_gone"), show_alert=True)
        return
    if (post.round, post.decisions_in_round) != (pressed.round, pressed.seen):
        await query.answer(text("triage_stale"), show_alert=True)
        await _refresh_card(context, post.id)
        return
    await query.answer(text("triage_change_hint"))
    await _refresh_card(context, post.id, choosing=True)


async def _decide(update: Update, context: BotContext, pressed: TriageButton) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    kind = pressed.decision
    assert kind is not None
    services = context.services
    clinician_id, clinician_name = update.effective_user.id, _display_name(update)

    def record(session: Session) -> tuple[TriageDecision, TriagePost]:
        decision = store.decide(
            session,
            pressed.post_id,
            pressed.round,
            pressed.seen,
            kind,
            clinician_id,
            clinician_name,
        )
        post = store.get_post(session, pressed.post_id)
        assert post is not None
        return decision, post

    try:
        decision, post = await services.database.run(record)
    except store.TriageConflict as conflict:
        if conflict.post_id is None:
            await query.answer(text("triage_case_gone"), show_alert=True)
        else:
            await query.answer(text("triage_stale"), show_alert=True)
            await _refresh_card(context, conflict.post_id)
        return
    public_id, chat_id = post.case.public_id, post.case.telegram_user_id
    await query.answer(text("triage_recorded", decision=decision_label(kind)))
    await _refresh_card(context, pressed.post_id)
    try:
        assert services.triage is not None
        await services.triage.deliver_decision(context.bot, decision, public_id, chat_id, post)
    except TelegramError as exc:  # the job delivers it later
        log.warning("triage: decision not delivered yet (%s)", exc)


async def _reopen(update: Update, context: BotContext, pressed: TriageButton) -> None:
    """The person pressed "Send new photos" under a "Need better photos" decision."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    services = context.services
    person = update.effective_user.id
    try:
        case = await services.database.run(
            store.reopen_for_photos, pressed.post_id, pressed.round, pressed.seen, person
        )
    except CaseAlreadyOpen:
        await query.answer()
        await say(context, person, "triage_reopen_busy")
        return
    except store.TriageConflict:
        await query.answer(text("stale_button"))
        return
    await query.answer()
    await drop_buttons(query.message)
    await _supersede_card(context, pressed.post_id)
    await show_below(context, person, view_of(case), before=text("triage_reopened"))


async def _supersede_card(context: BotContext, post_id: int) -> None:
    """The old card says new photos were requested, and loses its buttons."""
    services = context.services
    desk = services.triage
    assert desk is not None

    def read(session: Session) -> tuple[int, str] | None:
        post = store.get_post(session, post_id)
        if post is None or post.card_message_id is None:
            return None
        # The old card shows the finished round: its decisions, not the new round's (none).
        session.expunge(post)
        post.round -= 1
        body, _ = desk.render(session, post, superseded=True)
        return post.card_message_id, body

    card = await services.database.run(read)
    if card is None:
        return
    card_id, body = card
    try:
        await context.bot.edit_message_text(
            body, chat_id=desk.chat_id, message_id=card_id, reply_markup=None
        )
    except BadRequest as exc:
        log.info("triage: old card not edited (%s)", exc.message)


async def queue(update: Update, context: BotContext) -> None:
    """/queue in the clinic's group: undecided cases, the longest waiting first."""
    services = context.services
    assert services.triage is not None
    now = utcnow()
    waiting = await services.database.run(store.undecided)
    lines = [
        text(
            "triage_queue_line",
            rank=rank,
            case=short_case_id(str(post.case.public_id)),
            waited=duration((now - post.waiting_since).total_seconds()),
            tier=text(f"triage_tier_{post.advice_tier}"),
        )
        + ("" if post.posted_at is not None else text("triage_queue_unposted"))
        for rank, post in enumerate(waiting, start=1)
    ]
    body = "\n".join([text("triage_queue_title"), *lines]) if lines else text("triage_queue_empty")
    await context.bot.send_message(services.triage.chat_id, body)
    raise ApplicationHandlerStop


async def from_clinician(update: Update, context: BotContext) -> None:
    """A reply in the clinic's group to a card or a relayed message: to the person."""
    message = update.effective_message
    services = context.services
    desk = services.triage
    assert message is not None and desk is not None and update.effective_user is not None
    target = message.reply_to_message
    if target is None or message.text is None:
        raise ApplicationHandlerStop
    await desk.settled()
    post = await services.database.run(store.post_for_group_reply, target.message_id)
    found = None if post is None else (post.case_id, post.case.public_id)
    person = None if post is None else post.case.telegram_user_id
    if found is None or person is None:
        # Clinicians talking among themselves is none of the bot's business.
        if target.from_user is not None and target.from_user.id == context.bot.id:
            await message.reply_text(text("triage_relay_unknown"))
        raise ApplicationHandlerStop
    if not await desk.is_clinician(context.bot, update.effective_user.id):
        await message.reply_text(text("triage_not_clinician"))
        raise ApplicationHandlerStop
    case_id, public_id = found
    body = message.text[:RELAY_MAX]
    try:
        sent = await context.bot.send_message(
            person, text("triage_from_clinic", case=short_case_id(str(public_id)), body=body)
        )
    except TelegramError as exc:
        log.warning("triage: message to the person not delivered (%s)", exc)
        await message.reply_text(text("triage_relay_failed"))
        raise ApplicationHandlerStop from None
    await services.database.run(
        store.record_message,
        case_id,
        TriageDirection.TO_PERSON,
        body,
        clinician_telegram_id=update.effective_user.id,
        clinician_name=_display_name(update),
        group_message_id=message.message_id,
        person_message_id=sent.message_id,
    )
    await message.reply_text(text("triage_relayed"))
    raise ApplicationHandlerStop


async def from_person(update: Update, context: BotContext) -> None:
    """The person's text, if it is meant for the clinic (see the module's rule); else pass."""
    message = update.effective_message
    services = context.services
    desk = services.triage
    if message is None or message.text is None or desk is None or update.effective_user is None:
        return
    person = update.effective_user.id
    target = message.reply_to_message
    post = await services.database.run(
        _clinic_conversation, person, None if target is None else target.message_id
    )
    if post is None:
        return
    case_id, public_id, card_id = post.case_id, post.case.public_id, post.card_message_id
    body = message.text[:RELAY_MAX]
    sent = await context.bot.send_message(
        desk.chat_id,
        text("triage_from_person", case=short_case_id(str(public_id)), body=body),
        reply_to_message_id=card_id,
        allow_sending_without_reply=True,
        # What the person wrote is theirs, as their photos are.
        protect_content=desk.protect,
    )
    await services.database.run(
        store.record_message,
        case_id,
        TriageDirection.FROM_PERSON,
        body,
        group_message_id=sent.message_id,
        person_message_id=message.message_id,
    )
    await say(context, person, "triage_sent_to_clinic")
    raise ApplicationHandlerStop


def _clinic_conversation(
    session: Session, person: int, replied_to: int | None
) -> TriagePost | None:
    """The case the person's text is meant for (see the module's rule), if any."""
    post = None
    if replied_to is not None:
        post = store.post_for_person_reply(session, person, replied_to)
    if post is None and open_case(session, person) is None:
        post = store.latest_clinic_conversation(session, person, since=utcnow() - FREE_TEXT_WINDOW)
    return post


async def in_clinic(update: Update, context: BotContext) -> None:
    """Anything else in the clinic's group: silence (no "write to me privately" there)."""
    raise ApplicationHandlerStop


async def group_id(update: Update, context: BotContext) -> None:
    """/groupid in any group: the id to put in TRIAGE_CHAT_ID."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    await say(context, chat.id, "triage_group_id", group=str(chat.id))
    raise ApplicationHandlerStop
