"""/start, /new and the consent gate: nothing is collected before the terms are accepted."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import BadRequest

from bot import terms
from bot.config import Settings
from bot.conversation.common import (
    BotContext,
    chat_id_of,
    drop_buttons,
    language_of,
    say,
    user_id_of,
    view_of,
)
from bot.conversation.display import Settle, settle, show_below
from bot.conversation.screens import CaseView, consent_keyboard
from bot.db.cases import create_case, open_case, recent_cases
from bot.db.consent import accepts_terms_in_force, current_consent, record_consent
from bot.db.fair_use import LimitReached, limit_reached
from bot.db.models import ConsentDecision, ConsentRecord
from bot.db.users import touch_user
from bot.domain.steps import Step
from bot.i18n import speaking
from bot.i18n.formatting import date
from bot.i18n.texts import text
from bot.views.fair_use import limit_text


def parse_consent_value(value: str) -> tuple[str, str, str]:
    """(terms version, language shown, "yes"/"no") from a consent button's value.

    Buttons from before languages were recorded carry no language: they showed English. (Their
    versions, like "1", were set by hand; a derived version never equals one, so they are stale.)
    """
    parts = value.split(":")
    if len(parts) == 2:
        return parts[0], terms.DEFAULT_LANGUAGE, parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return "", "", ""


async def start(update: Update, context: BotContext) -> None:
    """/start: the welcome and the terms in one message (or the check, once agreed)."""
    await begin(update, context)


async def new(update: Update, context: BotContext) -> None:
    """/new: begin a check, or show the one in progress."""
    await begin(update, context)


@dataclass(frozen=True, slots=True)
class _Begun:
    """Where /start or /new finds the person."""

    stored_language: str | None
    consent: ConsentRecord | None
    resumed: CaseView | None = None
    started: CaseView | None = None
    limited: LimitReached | None = None
    # The message of the person's previous result, whose "New check" button a new check retires.
    previous_result: int | None = None


def _begin(
    session: Session,
    user_id: int,
    language: str | None,
    settings: Settings,
    *,
    next_patient: bool = False,
) -> _Begun:
    user = touch_user(session, user_id, language)
    consent = current_consent(session, user_id)
    resumed: CaseView | None = None
    started: CaseView | None = None
    limited: LimitReached | None = None
    previous_result: int | None = None
    if accepts_terms_in_force(session, consent):
        case = open_case(session, user_id)
        if case is not None:
            resumed = view_of(case)
        elif not (limited := limit_reached(session, user_id, settings)):
            latest = recent_cases(session, user_id, limit=1)
            if latest and latest[0].delivered_at is not None:
                previous_result = latest[0].status_message_id
            first = Step.NEXT_PATIENT if next_patient else None
            started = view_of(create_case(session, user_id, language=language, step=first))
    return _Begun(user.language, consent, resumed, started, limited, previous_result)


async def begin(update: Update, context: BotContext) -> None:
    """The consent gate if needed, else the open case's current step, else a new case."""
    user_id, language = user_id_of(update), language_of(update)
    begun = await context.services.database.run(
        _begin, user_id, language, context.services.settings
    )
    await _show_begun(update, context, begun)


async def next_patient(update: Update, context: BotContext) -> None:
    """ "Next patient" under the result of someone else's check: a new check for someone else
    that asks for their code first; a second press finds the screen the first one opened."""
    query = update.callback_query
    assert query is not None
    user_id, language = user_id_of(update), language_of(update)
    begun = await context.services.database.run(
        _begin, user_id, language, context.services.settings, next_patient=True
    )
    if begun.resumed is not None and begun.resumed.step is Step.NEXT_PATIENT:
        await query.answer(text("next_patient_open"))
        return
    await query.answer()
    await _show_begun(update, context, begun)


async def _show_begun(update: Update, context: BotContext, begun: _Begun) -> None:
    user_id, language = user_id_of(update), language_of(update)
    if begun.stored_language:
        context.services.languages.remember(user_id, begun.stored_language)
    chat_id = chat_id_of(update)
    if begun.resumed is not None:
        await show_below(context, chat_id, begun.resumed, before=text("case_in_progress"))
    elif begun.started is not None:
        await show_below(context, chat_id, begun.started)
        # Only the latest result keeps its button.
        await settle(context, chat_id, begun.previous_result, Settle.STRIP)
    elif begun.limited is not None:
        await context.bot.send_message(chat_id, limit_text(begun.limited, at_submission=False))
    else:
        consent = begun.consent
        renewing = consent is not None and consent.decision is ConsentDecision.ACCEPTED
        await show_gate(context, chat_id, language, renewing=renewing)


def onboarding(terms_text: str, *, renewing: bool = False, agreed: str | None = None) -> str:
    """The welcome (or the notice that the terms changed), the terms folded in an expandable
    quote, and once agreed the line that says when."""
    intro = text("consent_renew") if renewing else text("welcome")
    terms_html = html.escape(terms_text, quote=False)
    body = f"{intro}\n<blockquote expandable>{terms_html}</blockquote>"
    return body if agreed is None else f"{body}\n{agreed}"


async def show_gate(
    context: BotContext, chat_id: int, language: str | None, *, renewing: bool = False
) -> None:
    # The terms are exactly the text whose hash the consent record stores; the welcome above
    # them is not part of the terms. The buttons carry its version and the language shown, so
    # the record names the words on the screen even if the person switches language first.
    shown = terms.resolve_language(language)
    in_force = context.services.terms
    with speaking(shown):
        body = onboarding(in_force.text(shown), renewing=renewing)
    await context.bot.send_message(
        chat_id, body, reply_markup=consent_keyboard(in_force.version(shown), shown)
    )


async def on_consent(update: Update, context: BotContext, value: str) -> None:
    """The person pressed "I agree" or "I do not agree" under a terms text."""
    query = update.callback_query
    assert query is not None
    version, shown, answer = parse_consent_value(value)
    if shown not in terms.LANGUAGES or version != context.services.terms.version(shown):
        await _stale_gate(update, context)
        return
    user_id, language = user_id_of(update), language_of(update)
    chat_type = update.effective_chat.type if update.effective_chat else None
    accepted = answer == "yes"

    def decide(session: Session) -> tuple[dt.datetime | None, CaseView | None]:
        """When the decision in force was recorded, and the case to go on with (if agreed)."""
        touch_user(session, user_id, language)
        latest = current_consent(session, user_id)
        if not (accepted and accepts_terms_in_force(session, latest)):
            latest = record_consent(
                session,
                user_id,
                ConsentDecision.ACCEPTED if accepted else ConsentDecision.DECLINED,
                language=shown,
                chat_type=chat_type,
                terms_version=version,
            )
        when = latest.recorded_at if latest is not None else None
        if not accepted:
            return when, None
        case = open_case(session, user_id)
        if case is None:
            case = create_case(session, user_id, language=language)
        return when, view_of(case)

    try:
        when, view = await context.services.database.run(decide)
    except terms.UnknownTerms:
        # Another process of the bot started with other terms after this gate was shown.
        await _stale_gate(update, context)
        return
    await query.answer()
    chat_id = chat_id_of(update)
    # The message keeps the terms, folded, with the answer (and the day agreed), no buttons.
    with speaking(shown):
        day = date(when, context.services.settings.zone) if when else ""
        answer = text("consent_accepted", date=day) if view else text("consent_declined")
        settled = onboarding(context.services.terms.text(shown), agreed=answer)
    try:
        await query.edit_message_text(settled, reply_markup=None)
    except BadRequest:
        if view is None:
            await say(context, chat_id, "consent_declined")
    if view is not None:
        await show_below(context, chat_id, view)


async def _stale_gate(update: Update, context: BotContext) -> None:
    """A gate shown before the terms changed: the person has not seen the text in force."""
    query = update.callback_query
    assert query is not None
    await query.answer(text("stale_button"))
    await drop_buttons(query.message)
    await show_gate(context, chat_id_of(update), language_of(update), renewing=True)
