"""Answers to the case's steps: whose skin, the questionnaire, the summary and its buttons.

`apply_button` and `apply_text` change a collecting case inside a unit of work (`press`, `typed`)
and say what to show next; the handlers around them do the Telegram side. Every question can be
skipped.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session
from telegram import CallbackQuery, Update

from bot.conversation import intake, submission
from bot.conversation.common import (
    BotContext,
    chat_id_of,
    say,
    user_id_of,
    view_of,
)
from bot.conversation.display import (
    Settle,
    edit_or_say,
    settle,
    settle_of,
    show_below,
    show_in_place,
)
from bot.conversation.screens import (
    QUESTION_SCREENS,
    Action,
    CaseView,
    Question,
    screen,
)
from bot.db.cases import cancel_case, open_case
from bot.db.models import PATIENT_REF_MAX, Case, Subject
from bot.domain import safeguards
from bot.domain.questionnaire import (
    OLDEST_BIRTH_YEAR,
    youngest_birth_year,
)
from bot.domain.safeguards import Safeguard
from bot.domain.steps import QUESTIONS, Step, step_after
from bot.i18n.texts import text
from bot.modelderm.protocol import BODY_SITE_MAX, clean_free_text
from bot.views.buttons import CaseButton, case_ref

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to show after an answer: the next screen, a sentence first, or another action."""

    view: CaseView | None = None
    note: str | None = None
    submit: bool = False
    cancel: bool = False
    # Intimate photos of someone who may be a minor: the case is discarded, nothing is sent.
    refuse: bool = False
    stale: bool = False


STALE = Outcome(stale=True)


def _next(case: Case, step: Step) -> Step:
    return step_after(step, editing=case.editing, follow_up=case.follow_up_of is not None)


def _answered(case: Case, step: Step, **answer: object) -> Outcome:
    if answer:
        case.answers = dataclasses.replace(case.questionnaire, **answer).to_dict()  # type: ignore[arg-type]
    return _go(case, _next(case, step))


def _go(case: Case, step: Step, *, editing: bool | None = None, note: str | None = None) -> Outcome:
    case.step = step
    if editing is not None:
        case.editing = editing
    if step is Step.SUMMARY:
        case.editing = False
    return Outcome(view=view_of(case), note=note)


def apply_button(case: Case, step: Step, value: str) -> Outcome:
    """The person pressed `value` on the screen of `step` (the case's current step)."""
    if (question := QUESTION_SCREENS.get(step)) is not None:
        return _answer_question(case, step, question, value)
    match step:
        case Step.SUBJECT if value == Action.OWN:
            case.subject, case.patient_ref = Subject.OWN, None
            return _go(case, Step.SUMMARY if case.editing else Step.PHOTOS)
        case Step.SUBJECT if value == Action.OTHER:
            case.subject = Subject.OTHER_WITH_PERMISSION
            return _go(case, Step.PATIENT_REF)
        case Step.NEXT_PATIENT if value == Action.AGREED:
            # This press is the case's record that they (or their guardian) agreed.
            case.subject = Subject.OTHER_WITH_PERMISSION
            return _go(case, _next(case, step))
        case Step.PATIENT_REF if value == Action.SKIP:
            return _go(case, _next(case, step))
        case Step.PHOTOS if value == Action.DONE:
            if not case.accepted_photos:
                return Outcome(view=view_of(case), note=text("photos_none_yet"))
            return _go(case, _next(case, step))
        case Step.SUMMARY if value == Action.SEND:
            return _send(case)
        case Step.INTIMATE_CONFIRM if value == Action.SEND:
            return _send(case, confirmed=True)
        case Step.INTIMATE_CONFIRM if value == Action.SITE:
            return _go(case, Step.BODY_SITE, editing=True)
        case Step.INTIMATE_CONFIRM | Step.SUMMARY if value == Action.CANCEL:
            return Outcome(cancel=True)
        case Step.SUMMARY if value == Action.CHANGE:
            return _go(case, Step.CHANGE)
        case Step.CHANGE if value == Action.BACK:
            return _go(case, Step.SUMMARY)
        case Step.CHANGE if value in {Step.PHOTOS, Step.PATIENT_REF, *QUESTIONS}:
            target = Step(value)
            if target is Step.PATIENT_REF and case.subject is Subject.OWN:
                return STALE
            return _go(case, target, editing=True)
    return STALE


def _answer_question(case: Case, step: Step, question: Question, value: str) -> Outcome:
    """A press on a question's screen, as its declaration says (bot/conversation/screens.py)."""
    if value == Action.SKIP:
        if case.follow_up_of is not None:
            # A follow-up's carried-over answer (the onset, moved on) stays when skipped.
            return _go(case, _next(case, step))
        return _answered(case, step, **{question.answers: None})
    choice = question.choice(value)
    if choice is None:
        return STALE
    if choice.leads_to is not None:
        return _go(case, choice.leads_to)
    return _answered(case, step, **{question.answers: question.read(choice.value)})


def _send(case: Case, *, confirmed: bool = False) -> Outcome:
    """ "Send" pressed: what the photos need first (bot/domain/safeguards.py), else submit."""
    match safeguards.assess(case.questionnaire):
        case Safeguard.REFUSE:
            return Outcome(refuse=True)
        case Safeguard.CONFIRM if not confirmed:
            return _go(case, Step.INTIMATE_CONFIRM)
    return Outcome(submit=True)


def typed_patient_ref(typed: str) -> str | None:
    """A patient code as typed, cleaned as it is stored (and as /history looks it up); None
    when it is empty or longer than PATIENT_REF_MAX."""
    ref = clean_free_text(typed, PATIENT_REF_MAX + 1)
    return ref if ref and len(ref) <= PATIENT_REF_MAX else None


def parse_birth_year(typed: str) -> int | None:
    """A year typed in any digits (int() reads Arabic-Indic, full-width...), or None."""
    cleaned = typed.strip().replace(" ", "")
    if not cleaned.isdecimal() or len(cleaned) != 4:
        return None
    year = int(cleaned)
    return year if OLDEST_BIRTH_YEAR <= year <= youngest_birth_year() else None


def apply_text(case: Case, typed: str) -> Outcome:
    """The person typed `typed` while the case is at its current step."""
    step = Step(case.step)
    question = QUESTION_SCREENS.get(step)
    if question is not None and not question.typed:
        return Outcome(view=view_of(case), note=text("use_buttons"))
    if step in (Step.PATIENT_REF, Step.NEXT_PATIENT):
        ref = typed_patient_ref(typed)
        if ref is None:
            note = "patient_ref_invalid" if step is Step.PATIENT_REF else "next_patient_invalid"
            return Outcome(view=view_of(case), note=text(note, max=PATIENT_REF_MAX))
        case.patient_ref = ref
        if step is Step.NEXT_PATIENT:
            # The code is asked first; the permission press still moves on.
            return _go(case, step)
        return _go(case, _next(case, step))
    if step is Step.BIRTH_YEAR:
        year = parse_birth_year(typed)
        if year is None:
            note = text(
                "q_birth_year_invalid", oldest=OLDEST_BIRTH_YEAR, youngest=youngest_birth_year()
            )
            return Outcome(view=view_of(case), note=note)
        return _answered(case, step, birth_year=year)
    if step in (Step.BODY_SITE, Step.BODY_SITE_TEXT):
        # Typing the place at the buttons' step is as clear an answer as pressing "Other".
        site = clean_free_text(typed, BODY_SITE_MAX + 1)
        if not site or len(site) > BODY_SITE_MAX:
            return Outcome(view=view_of(case), note=text("q_body_site_invalid", max=BODY_SITE_MAX))
        return _answered(case, step, body_site=site)
    if step is Step.PHOTOS:
        note = text("text_at_photos" if case.photos else "text_before_photos")
        return Outcome(view=view_of(case), note=note)
    return Outcome(view=view_of(case), note=text("use_buttons"))


def press(
    session: Session, user_id: int, pressed: CaseButton, message_id: int | None
) -> tuple[uuid.UUID | None, Outcome]:
    """A unit of work: apply a case button pressed on message `message_id` to the open case
    (stale unless it is the case's current screen and step); the case's id and what to show."""
    case = open_case(session, user_id)
    if case is None:
        return None, STALE
    if case_ref(str(case.public_id)) != pressed.ref or Step(case.step) is not pressed.step:
        return case.public_id, STALE
    if message_id is not None and case.screen_message_id is not None:
        if message_id < case.screen_message_id:
            return case.public_id, STALE
        # A newer message with this step's buttons is a screen sent but not recorded (the bot
        # stopped in between): it is the screen now.
        case.screen_message_id = message_id
    outcome = apply_button(case, pressed.step, pressed.value)
    if outcome.refuse:
        cancel_case(session, case.public_id)
    elif outcome.view is not None:
        # The pressed message shows the next screen now: it settles as that screen does.
        case.screen_settle = settle_of(outcome.view, screen(outcome.view))
    return case.public_id, outcome


def typed(session: Session, user_id: int, message: str) -> Outcome | None:
    """A unit of work: apply typed text to the open case; None when there is none."""
    case = open_case(session, user_id)
    return None if case is None else apply_text(case, message)


def cancel_open(session: Session, user_id: int) -> tuple[uuid.UUID | None, int | None, Settle]:
    """A unit of work: discard the open case; the one discarded, if there was one, and its
    screen (to settle)."""
    case = open_case(session, user_id)
    if case is None:
        return None, None, Settle.NOTHING
    screen_id, how = case.screen_message_id, Settle(case.screen_settle)
    cancel_case(session, case.public_id)
    return case.public_id, screen_id, how


async def on_case_button(update: Update, context: BotContext, pressed: CaseButton) -> None:
    """A button of a case's screen; presses for another case or an earlier step are stale."""
    query = update.callback_query
    assert query is not None
    user_id, chat_id = user_id_of(update), chat_id_of(update)
    if pressed.step is Step.PHOTOS and pressed.value.startswith(("keep", "replace")):
        await intake.on_photo_decision(update, context, pressed)
        return
    message_id = query.message.message_id if query.message is not None else None
    public_id, outcome = await context.services.intake.settled_then(
        chat_id, press, user_id, pressed, message_id
    )
    if outcome.stale:
        await query.answer(text("stale_button"))
        return
    await query.answer()
    if outcome.submit and public_id is not None:
        await submission.submit(update, context, public_id)
    elif outcome.cancel and public_id is not None:
        await cancel_case_of(context, user_id, chat_id, query=query)
    elif outcome.refuse:
        if public_id is not None:
            context.services.held_photos.forget_case(public_id)
        log.info("case %s: intimate photos of a possible minor, discarded unsent", public_id)
        await edit_or_say(context, query, chat_id, text("intimate_child_refused"))
    elif outcome.view is not None:
        await show_in_place(context, query, outcome.view, before=outcome.note)


async def on_text(update: Update, context: BotContext) -> None:
    """Typed text: an answer at a typed step, otherwise a pointer back to the buttons."""
    message = update.effective_message
    assert message is not None and message.text is not None
    outcome = await context.services.database.run(typed, user_id_of(update), message.text)
    chat_id = chat_id_of(update)
    if outcome is None:
        await say(context, chat_id, "idle_hint")
    elif outcome.view is not None:
        await show_below(context, chat_id, outcome.view, before=outcome.note)


async def cancel_case_of(
    context: BotContext, user_id: int, chat_id: int, *, query: CallbackQuery | None = None
) -> None:
    """Discard the open case: its answers, its photo references and the photos held in memory.
    A Cancel press turns its screen into the answer; /cancel settles the screen and answers."""
    cancelled, screen_id, how = await context.services.database.run(cancel_open, user_id)
    if cancelled is not None:
        # Only this case's: a check already sent and waiting for the API keeps its photos.
        context.services.held_photos.forget_case(cancelled)
    body = text("cancelled" if cancelled is not None else "nothing_to_cancel")
    if query is not None:
        await edit_or_say(context, query, chat_id, body)
        return
    await context.bot.send_message(chat_id, body)
    await settle(context, chat_id, screen_id, how)


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: discard the check in progress, at any step."""
    await cancel_case_of(context, user_id_of(update), chat_id_of(update))
