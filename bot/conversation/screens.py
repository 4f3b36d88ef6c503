"""What a person sees at each step: one function of the case's state gives text and keyboard.

Handlers never build keyboards or pick texts themselves; they change the case, then show
`screen(view)`. Keeping it in one place means a restart, a stale button or a wrong input can always
re-show exactly the current question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.db.models import MAX_PHOTOS
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.domain.steps import BODY_SITES, QUESTIONS, Step
from bot.i18n.texts import text
from bot.views.answers import answer_label
from bot.views.buttons import case_button, global_button


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
    return [_button(view, "button_skip", "skip")]


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def screen(view: CaseView) -> Screen:
    """The text and buttons of the case's current step."""
    step = view.step
    if step is Step.SUBJECT:
        return Screen(
            text("subject_question"),
            InlineKeyboardMarkup(
                [[_button(view, "subject_own", "own")], [_button(view, "subject_other", "other")]]
            ),
        )
    if step is Step.PATIENT_REF:
        return Screen(text("patient_ref_question"), InlineKeyboardMarkup([_skip(view)]))
    if step is Step.PHOTOS:
        return photos_screen(view)
    if step is Step.BIRTH_YEAR:
        return Screen(text("q_birth_year"), InlineKeyboardMarkup([_skip(view)]))
    if step is Step.SEX:
        return Screen(
            text("q_sex"),
            InlineKeyboardMarkup(
                [
                    [_button(view, f"sex_{s.value}", s.value) for s in (Sex.FEMALE, Sex.MALE)],
                    _skip(view),
                ]
            ),
        )
    if step is Step.SKIN_TYPE:
        rows = [[_button(view, f"skin_{n}", str(n))] for n in range(1, 7)]
        return Screen(text("q_skin_type"), InlineKeyboardMarkup([*rows, _skip(view)]))
    if step is Step.BODY_SITE:
        sites = [_button(view, f"site_{site}", site) for site in BODY_SITES]
        other = [_button(view, "site_other", "other"), *_skip(view)]
        return Screen(text("q_body_site"), InlineKeyboardMarkup([*_rows(sites, 3), other]))
    if step is Step.BODY_SITE_TEXT:
        return Screen(text("q_body_site_text"), InlineKeyboardMarkup([_skip(view)]))
    if step in (Step.ITCH, Step.PAIN):
        key = "q_itch" if step is Step.ITCH else "q_pain"
        rows = [[_button(view, f"severity_{s.value}", s.value)] for s in Severity]
        return Screen(text(key), InlineKeyboardMarkup([*rows, _skip(view)]))
    if step is Step.ONSET:
        rows = [[_button(view, f"onset_{o.value}", o.value)] for o in Onset]
        return Screen(text("q_onset"), InlineKeyboardMarkup([*rows, _skip(view)]))
    if step is Step.SUMMARY:
        return summary_screen(view)
    if step is Step.CHANGE:
        return change_screen(view)
    if step is Step.INTIMATE_CONFIRM:
        return intimate_confirm_screen(view)
    raise ValueError(f"no screen for step {step}")


def photos_screen(view: CaseView) -> Screen:
    if view.photo_count >= MAX_PHOTOS:
        body = text("photos_full", max=MAX_PHOTOS)
    elif view.photo_count:
        body = text("photos_next")
    else:
        body = text("photos_request")
    keyboard = (
        InlineKeyboardMarkup([[_button(view, "button_done", "done")]]) if view.photo_count else None
    )
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
            [_button(view, "button_send", "send")],
            [_button(view, "button_change", "change")],
            [_button(view, "button_cancel", "cancel")],
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
    rows.append([_button(view, "button_back", "back")])
    return Screen(text("change_which"), InlineKeyboardMarkup(rows))


def intimate_confirm_screen(view: CaseView) -> Screen:
    """Where intimate photos go, and the one explicit yes they need (bot/domain/safeguards.py)."""
    lines = [text("intimate_confirm_title"), text("intimate_confirm_api")]
    if view.clinic_sees_cases:
        lines.append(text("intimate_confirm_clinic"))
    if view.questionnaire.birth_year is None:
        lines.append(text("intimate_confirm_adult"))
    lines.append(text("intimate_confirm_question"))
    keyboard = InlineKeyboardMarkup(
        [
            [_button(view, "intimate_confirm_send", "send")],
            [_button(view, "intimate_confirm_change_site", "site")],
            [_button(view, "button_cancel", "cancel")],
        ]
    )
    return Screen("\n".join(lines), keyboard)


def consent_keyboard(terms_version: str, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("consent_agree"),
                    callback_data=global_button("consent", f"{terms_version}:{language}:yes"),
                )
            ],
            [
                InlineKeyboardButton(
                    text("consent_disagree"),
                    callback_data=global_button("consent", f"{terms_version}:{language}:no"),
                )
            ],
        ]
    )


def delete_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("delete_yes"), callback_data=global_button("delete", "yes")
                )
            ],
            [InlineKeyboardButton(text("delete_no"), callback_data=global_button("delete", "no"))],
        ]
    )


def photo_warning_keyboard(public_id: str, position: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("photo_keep"),
                    callback_data=case_button(public_id, Step.PHOTOS, f"keep{position}"),
                ),
                InlineKeyboardButton(
                    text("photo_replace"),
                    callback_data=case_button(public_id, Step.PHOTOS, f"replace{position}"),
                ),
            ]
        ]
    )
