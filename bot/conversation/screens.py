"""What a person sees at each step: one function of the case's state gives text and keyboard.

Handlers never build keyboards or pick texts themselves; they change the case, then show
`screen(view)`. Keeping it in one place means a restart, a stale button or a wrong input can always
re-show exactly the current question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.db.models import MAX_PHOTOS
from bot.domain.questionnaire import Onset, Questionnaire, RecentChange, Severity, Sex
from bot.domain.steps import BODY_SITES, QUESTIONS, Step
from bot.i18n.texts import MESSAGES, text
from bot.views.answers import answer_label
from bot.views.buttons import Kind, case_button, global_button


@dataclass(frozen=True, slots=True)
class CaseView:
    """The part of a case the conversation shows, independent of the database."""

    public_id: str
    step: Step
    photo_count: int = 0
    subject_is_own: bool | None = None
    patient_ref: str | None = None
    questionnaire: Questionnaire = field(default_factory=Questionnaire)
    editing: bool = False
    # Whether the clinic's clinicians see every check sent (triage on): some screens say so.
    clinic_sees_cases: bool = False
    # The message showing the case's screen (bot/conversation/display.py), if any yet.
    screen_message_id: int | None = None
    # The sender's previous check was of someone else's skin: "Someone else's" is offered first.
    others_first: bool = False


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def _button(
    view: CaseView, label_key: str, value: str, step: Step | None = None
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text(label_key), callback_data=case_button(view.public_id, step or view.step, value)
    )


def _skip(view: CaseView) -> list[InlineKeyboardButton]:
    return [_button(view, "button_skip", Action.SKIP)]


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def whose(view: CaseView, key: str) -> str:
    """The message `key`, or its variant `key_own` for the person's own skin ("your" for
    "their")."""
    own = f"{key}_own"
    return text(own if view.subject_is_own and own in MESSAGES else key)


def answers_header(view: CaseView) -> str | None:
    """The answers so far, as one compact line above the question ("✓ Arm · ✓ Itch: mild"), so
    that the chat reads as a record of what was answered. None before the first answer, and on
    the screens that show every answer themselves."""
    step = Step.BODY_SITE if view.step is Step.BODY_SITE_TEXT else view.step
    if view.editing or step in (
        Step.SUBJECT,
        Step.NEXT_PATIENT,
        Step.SUMMARY,
        Step.CHANGE,
        Step.INTIMATE_CONFIRM,
    ):
        return None
    items = [text("subject_own" if view.subject_is_own else "subject_other")]
    if view.patient_ref:
        items[0] = text("header_reference", whose=items[0], value=view.patient_ref)
    if step in QUESTIONS:
        items.append(text("header_photos", count=view.photo_count))
        for earlier in QUESTIONS[: QUESTIONS.index(step)]:
            value = answer_label(earlier, view.questionnaire) or text("summary_skipped")
            items.append(text("summary_line", label=text(f"label_{earlier.value}"), value=value))
    return " · ".join(f"✓ {item}" for item in items)


def screen(view: CaseView) -> Screen:
    """The text and buttons of the case's current step, under the answers so far."""
    shown = _question(view)
    header = answers_header(view)
    return shown if header is None else Screen(f"{header}\n\n{shown.text}", shown.keyboard)


class Action(StrEnum):
    """Values of the buttons that are not an answer's own value."""

    SKIP = "skip"
    OWN = "own"
    OTHER = "other"
    DONE = "done"
    SEND = "send"
    CHANGE = "change"
    CANCEL = "cancel"
    BACK = "back"
    SITE = "site"
    AGREED = "agreed"


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: its label (a message id), the value it carries, and where it leads instead of
    answering (e.g. "Other (type it)" leads to the typed body site)."""

    label: str
    value: str
    leads_to: Step | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question's screen, declared once: rendering (`screen`) and a press
    (bot/conversation/questions.py `apply_button`) both read it.

    `text`: its message id (a `<text>_own` variant is used for the person's own skin);
    `answers`: the Questionnaire field it fills; `read`: a button's value as that field's value;
    `choices` laid out `per_row`; `last_row`: choices put next to Skip; every question may be
    skipped, and a `typed` one is answered by typing (bot/conversation/questions.py `apply_text`).
    """

    text: str
    answers: str
    read: Callable[[str], object] = str
    choices: tuple[Choice, ...] = ()
    per_row: int = 1
    last_row: tuple[Choice, ...] = ()
    typed: bool = False

    def choice(self, value: str) -> Choice | None:
        return next((c for c in (*self.choices, *self.last_row) if c.value == value), None)


def _severity(text_key: str, answers: str) -> Question:
    return Question(
        text_key,
        answers,
        Severity,
        tuple(Choice(f"severity_{level.value}", level) for level in Severity),
    )


SKIN_TYPES = ("1", "2", "3", "4", "5", "6")

QUESTION_SCREENS: dict[Step, Question] = {
    Step.BIRTH_YEAR: Question("q_birth_year", "birth_year", int, typed=True),
    Step.SEX: Question(
        "q_sex",
        "sex",
        Sex,
        tuple(Choice(f"sex_{sex.value}", sex) for sex in (Sex.FEMALE, Sex.MALE)),
        per_row=2,
    ),
    Step.SKIN_TYPE: Question(
        "q_skin_type", "skin_type", int, tuple(Choice(f"skin_{n}", n) for n in SKIN_TYPES)
    ),
    Step.BODY_SITE: Question(
        "q_body_site",
        "body_site",
        str,
        tuple(Choice(f"site_{site}", site) for site in BODY_SITES),
        per_row=3,
        last_row=(Choice("site_other", Action.OTHER, leads_to=Step.BODY_SITE_TEXT),),
        typed=True,
    ),
    Step.BODY_SITE_TEXT: Question("q_body_site_text", "body_site", typed=True),
    Step.ITCH: _severity("q_itch", "itch"),
    Step.PAIN: _severity("q_pain", "pain"),
    Step.ONSET: Question(
        "q_onset", "onset", Onset, tuple(Choice(f"onset_{o.value}", o) for o in Onset)
    ),
    Step.RECENT_CHANGE: Question(
        "q_change",
        "recent_change",
        RecentChange,
        tuple(Choice(f"q_change_{c.value}", c) for c in RecentChange),
    ),
}


def question_screen(view: CaseView, question: Question) -> Screen:
    rows = _rows([_button(view, c.label, c.value) for c in question.choices], question.per_row)
    last = [_button(view, c.label, c.value) for c in question.last_row]
    rows.append([*last, *_skip(view)])
    return Screen(whose(view, question.text), InlineKeyboardMarkup(rows))


def _question(view: CaseView) -> Screen:
    step = view.step
    if (question := QUESTION_SCREENS.get(step)) is not None:
        return question_screen(view, question)
    if step is Step.SUBJECT:
        rows = [
            [_button(view, "subject_own", Action.OWN)],
            [_button(view, "subject_other", Action.OTHER)],
        ]
        return Screen(
            text("subject_question"),
            InlineKeyboardMarkup(rows[::-1] if view.others_first else rows),
        )
    if step is Step.NEXT_PATIENT:
        return next_patient_screen(view)
    if step is Step.PATIENT_REF:
        return Screen(text("patient_ref_question"), InlineKeyboardMarkup([_skip(view)]))
    if step is Step.PHOTOS:
        return photos_screen(view)
    if step is Step.SUMMARY:
        return summary_screen(view)
    if step is Step.CHANGE:
        return change_screen(view)
    if step is Step.INTIMATE_CONFIRM:
        return intimate_confirm_screen(view)
    raise ValueError(f"no screen for step {step}")


def next_patient_screen(view: CaseView) -> Screen:
    """ "Next patient": their code first (optional), then the one press that records that they,
    or their guardian, agreed; nothing leaves before it."""
    lines = [text("next_patient_title")]
    if view.patient_ref:
        lines.append(text("next_patient_code", value=view.patient_ref))
        lines.append(text("next_patient_code_change"))
    else:
        lines.append(text("next_patient_question"))
    lines.append(text("next_patient_permission"))
    keyboard = InlineKeyboardMarkup([[_button(view, "next_patient_agreed", Action.AGREED)]])
    return Screen("\n\n".join(lines), keyboard)


def photos_screen(view: CaseView) -> Screen:
    """The request for photos, then how many came and how many more may (never "of 5", as if
    five were expected); Done only once there is a photo."""
    count = view.photo_count
    if count >= MAX_PHOTOS:
        body = text("photos_full", max=MAX_PHOTOS)
    elif count:
        body = text("photos_received", count=count, more=MAX_PHOTOS - count)
    else:
        body = text("photos_request")
    done = [[_button(view, "button_done", Action.DONE)]]
    keyboard = InlineKeyboardMarkup(done) if count else None
    return Screen(body, keyboard)


def summary_screen(view: CaseView) -> Screen:
    skipped = text("summary_skipped")
    whose = text("subject_own" if view.subject_is_own is not False else "subject_other")
    lines = [
        text("summary_title"),
        "",
        text("summary_photos", count=view.photo_count),
        text("summary_whose", value=whose),
    ]
    if view.patient_ref:
        lines.append(text("summary_reference", value=view.patient_ref))
    for step in QUESTIONS:
        value = answer_label(step, view.questionnaire) or skipped
        lines.append(text("summary_line", label=text(f"label_{step.value}"), value=value))
    lines += ["", text("summary_send_note")]
    keyboard = InlineKeyboardMarkup(
        [
            [_button(view, "button_send", Action.SEND)],
            [_button(view, "button_change", Action.CHANGE)],
            [_button(view, "button_cancel", Action.CANCEL)],
        ]
    )
    return Screen("\n".join(lines), keyboard)


def change_screen(view: CaseView) -> Screen:
    buttons = [_button(view, "change_photos", Step.PHOTOS.value)]
    if view.subject_is_own is False:
        buttons.append(_button(view, "label_reference", Step.PATIENT_REF.value))
    for step in QUESTIONS:
        buttons.append(_button(view, f"label_{step.value}", step.value))
    rows = _rows(buttons, 2)
    rows.append([_button(view, "button_back", Action.BACK)])
    return Screen(text("change_which"), InlineKeyboardMarkup(rows))


def intimate_confirm_screen(view: CaseView) -> Screen:
    """Where intimate photos go, and the one explicit yes they need (bot/domain/safeguards.py)."""
    lines = [text("intimate_confirm_title"), text("intimate_confirm_api")]
    if view.clinic_sees_cases:
        lines.append(text("intimate_confirm_clinic"))
    if view.questionnaire.birth_year is None:
        lines.append(whose(view, "intimate_confirm_adult"))
    lines.append(text("intimate_confirm_question"))
    keyboard = InlineKeyboardMarkup(
        [
            [_button(view, "intimate_confirm_send", Action.SEND)],
            [_button(view, "intimate_confirm_change_site", Action.SITE)],
            [_button(view, "button_cancel", Action.CANCEL)],
        ]
    )
    return Screen("\n".join(lines), keyboard)


def consent_keyboard(terms_version: str, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("consent_agree"),
                    callback_data=global_button(Kind.CONSENT, f"{terms_version}:{language}:yes"),
                )
            ],
            [
                InlineKeyboardButton(
                    text("consent_disagree"),
                    callback_data=global_button(Kind.CONSENT, f"{terms_version}:{language}:no"),
                )
            ],
        ]
    )


def delete_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("delete_yes"), callback_data=global_button(Kind.DELETE, "yes")
                )
            ],
            [
                InlineKeyboardButton(
                    text("delete_no"), callback_data=global_button(Kind.DELETE, "no")
                )
            ],
        ]
    )


def withdraw_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("withdraw_yes"), callback_data=global_button(Kind.WITHDRAW, "yes")
                )
            ],
            [
                InlineKeyboardButton(
                    text("withdraw_no"), callback_data=global_button(Kind.WITHDRAW, "no")
                )
            ],
        ]
    )


def photo_warning_row(public_id: str, position: int) -> list[InlineKeyboardButton]:
    """Keep or replace photo `position`, under the acknowledgement that says what is wrong."""
    return [
        InlineKeyboardButton(
            text("photo_keep", number=position),
            callback_data=case_button(public_id, Step.PHOTOS, f"keep{position}"),
        ),
        InlineKeyboardButton(
            text("photo_replace", number=position),
            callback_data=case_button(public_id, Step.PHOTOS, f"replace{position}"),
        ),
    ]
