"""Every step's inputs, as a table: a button or typed text at a step, for one's own skin or
someone else's, while editing from the summary or not, gives the next step, what is stored, and
the message the person reads first.

Written against what the person does and sees (button values of the screens, typed text, the
resulting step and answers), not against how the steps are implemented.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import InlineKeyboardButton

from bot.conversation.questions import Outcome, apply_button, apply_text
from bot.conversation.screens import QUESTION_SCREENS, CaseView, screen
from bot.db.models import PATIENT_REF_MAX, Case, CasePhoto, PhotoState, Subject
from bot.domain.questionnaire import (
    OLDEST_BIRTH_YEAR,
    Onset,
    RecentChange,
    Severity,
    Sex,
    youngest_birth_year,
)
from bot.domain.steps import Step, step_after
from bot.i18n.texts import text
from bot.modelderm.protocol import BODY_SITE_MAX
from bot.views.buttons import CaseButton, decode

OWN, OTHER = Subject.OWN, Subject.OTHER_WITH_PERMISSION
ADULT = dt.date.today().year - 40
CHILD = dt.date.today().year - 8


@dataclass(frozen=True)
class Typed:
    """Text the person types (rather than a button they press)."""

    words: str

    def __repr__(self) -> str:
        return f"typed {self.words!r}"


@dataclass(frozen=True)
class Row:
    step: Step
    given: str | Typed  # a button's value, or typed text
    then: Step | str  # the next step, or what happens instead: "submit", "cancel", "refuse",
    # "stale" (the press changes nothing) or "same" (the step is shown again)
    whose: Subject = OWN
    editing: bool = False
    photos: int = 1
    before: dict[str, Any] = field(default_factory=dict)  # answers (and reference) given earlier
    stored: dict[str, Any] = field(default_factory=dict)  # answers (and reference) after
    note: tuple[str, dict[str, Any]] | None = None  # the message shown first: id, values

    def __str__(self) -> str:
        whose = "own" if self.whose is OWN else "other"
        editing = "-editing" if self.editing else ""
        return f"{self.step}-{self.given!r}-{whose}{editing}"


INVALID_YEAR = ("q_birth_year_invalid", {"oldest": OLDEST_BIRTH_YEAR, "youngest": None})
INVALID_REF = ("patient_ref_invalid", {"max": PATIENT_REF_MAX})
INVALID_SITE = ("q_body_site_invalid", {"max": BODY_SITE_MAX})

ROWS = [
    # Whose skin: one's own goes straight to the photos, someone else's asks for a reference.
    Row(Step.SUBJECT, "own", Step.PHOTOS, stored={"subject": OWN, "patient_ref": None}),
    Row(
        Step.SUBJECT,
        "own",
        Step.SUMMARY,
        whose=OTHER,
        editing=True,
        before={"patient_ref": "Bed 1"},
        stored={"subject": OWN, "patient_ref": None},
    ),
    Row(Step.SUBJECT, "other", Step.PATIENT_REF, stored={"subject": OTHER}),
    Row(Step.SUBJECT, "other", Step.PATIENT_REF, editing=True, stored={"subject": OTHER}),
    Row(Step.SUBJECT, Typed("mine"), "same", note=("use_buttons", {})),
    # The reference for someone else's skin: typed, skipped, or too long / invisible.
    Row(
        Step.PATIENT_REF,
        Typed("Patient 7"),
        Step.PHOTOS,
        whose=OTHER,
        stored={"patient_ref": "Patient 7"},
    ),
    Row(
        Step.PATIENT_REF,
        Typed("Bed 4"),
        Step.SUMMARY,
        whose=OTHER,
        editing=True,
        stored={"patient_ref": "Bed 4"},
    ),
    Row(
        Step.PATIENT_REF,
        Typed("x" * PATIENT_REF_MAX),
        Step.PHOTOS,
        whose=OTHER,
        stored={"patient_ref": "x" * PATIENT_REF_MAX},
    ),
    Row(
        Step.PATIENT_REF, Typed("x" * (PATIENT_REF_MAX + 1)), "same", whose=OTHER, note=INVALID_REF
    ),
    Row(Step.PATIENT_REF, Typed("\u200b\u200b"), "same", whose=OTHER, note=INVALID_REF),
    Row(Step.PATIENT_REF, "skip", Step.PHOTOS, whose=OTHER),
    # Skipping while changing it keeps the reference given before.
    Row(
        Step.PATIENT_REF,
        "skip",
        Step.SUMMARY,
        whose=OTHER,
        editing=True,
        before={"patient_ref": "Bed 1"},
    ),
    # "Next patient": the code is asked first and kept on the same screen; the one button is
    # the record that they (or their guardian) agreed, and only it moves on to the photos.
    Row(Step.NEXT_PATIENT, Typed("  PT-0418 "), "same", stored={"patient_ref": "PT-0418"}),
    Row(
        Step.NEXT_PATIENT,
        Typed("PT-0419"),
        "same",
        before={"patient_ref": "PT-0418"},
        stored={"patient_ref": "PT-0419"},
    ),
    Row(
        Step.NEXT_PATIENT,
        Typed("x" * (PATIENT_REF_MAX + 1)),
        "same",
        note=("next_patient_invalid", {"max": PATIENT_REF_MAX}),
    ),
    Row(
        Step.NEXT_PATIENT,
        "agreed",
        Step.PHOTOS,
        before={"patient_ref": "PT-0418"},
        stored={"subject": OTHER},
    ),
    Row(Step.NEXT_PATIENT, "agreed", Step.PHOTOS, stored={"subject": OTHER}),
    Row(Step.NEXT_PATIENT, "skip", "stale"),
    # Photos: "Done" needs one; typing is pointed back at the photos.
    Row(Step.PHOTOS, "done", Step.BIRTH_YEAR),
    Row(Step.PHOTOS, "done", Step.SUMMARY, editing=True),
    Row(Step.PHOTOS, "done", "same", photos=0, note=("photos_none_yet", {})),
    Row(Step.PHOTOS, Typed("here it is"), "same", note=("text_at_photos", {})),
    Row(Step.PHOTOS, "skip", "stale"),
    # Year of birth: typed in any digits, within the years that can be.
    Row(Step.BIRTH_YEAR, Typed("1984"), Step.SEX, stored={"birth_year": 1984}),
    Row(Step.BIRTH_YEAR, Typed(" 1984 "), Step.SEX, stored={"birth_year": 1984}),
    Row(Step.BIRTH_YEAR, Typed("١٩٨٤"), Step.SEX, stored={"birth_year": 1984}),
    Row(Step.BIRTH_YEAR, Typed("１９８４"), Step.SEX, stored={"birth_year": 1984}),
    Row(Step.BIRTH_YEAR, Typed("1984"), Step.SUMMARY, editing=True, stored={"birth_year": 1984}),
    Row(
        Step.BIRTH_YEAR,
        Typed(str(OLDEST_BIRTH_YEAR)),
        Step.SEX,
        stored={"birth_year": OLDEST_BIRTH_YEAR},
    ),
    Row(Step.BIRTH_YEAR, Typed(str(OLDEST_BIRTH_YEAR - 1)), "same", note=INVALID_YEAR),
    Row(Step.BIRTH_YEAR, Typed(str(youngest_birth_year() + 1)), "same", note=INVALID_YEAR),
    Row(Step.BIRTH_YEAR, Typed("84"), "same", note=INVALID_YEAR),
    Row(Step.BIRTH_YEAR, Typed("nineteen"), "same", note=INVALID_YEAR),
    Row(
        Step.BIRTH_YEAR, "skip", Step.SEX, before={"birth_year": 1984}, stored={"birth_year": None}
    ),
    # The questions with buttons, in order; each can be skipped.
    Row(Step.SEX, "f", Step.SKIN_TYPE, stored={"sex": Sex.FEMALE}),
    Row(Step.SEX, "m", Step.SUMMARY, editing=True, stored={"sex": Sex.MALE}),
    Row(Step.SEX, "skip", Step.SKIN_TYPE, before={"sex": Sex.MALE}, stored={"sex": None}),
    Row(Step.SEX, "x", "stale"),
    Row(Step.SEX, Typed("female"), "same", note=("use_buttons", {})),
    Row(Step.SKIN_TYPE, "3", Step.BODY_SITE, stored={"skin_type": 3}),
    Row(Step.SKIN_TYPE, "6", Step.SUMMARY, editing=True, stored={"skin_type": 6}),
    Row(Step.SKIN_TYPE, "7", "stale"),
    Row(Step.SKIN_TYPE, "skip", Step.BODY_SITE, stored={"skin_type": None}),
    Row(Step.BODY_SITE, "arm", Step.ITCH, stored={"body_site": "arm"}),
    Row(Step.BODY_SITE, "face", Step.SUMMARY, editing=True, stored={"body_site": "face"}),
    Row(Step.BODY_SITE, "elbow", "stale"),
    Row(Step.BODY_SITE, "other", Step.BODY_SITE_TEXT),
    Row(Step.BODY_SITE, "skip", Step.ITCH, stored={"body_site": None}),
    # Typing the place at the buttons' step is as clear as pressing "Other" first.
    Row(
        Step.BODY_SITE, Typed("behind the knee"), Step.ITCH, stored={"body_site": "behind the knee"}
    ),
    Row(Step.BODY_SITE_TEXT, Typed("left ear"), Step.ITCH, stored={"body_site": "left ear"}),
    Row(
        Step.BODY_SITE_TEXT,
        Typed("left ear"),
        Step.SUMMARY,
        editing=True,
        stored={"body_site": "left ear"},
    ),
    Row(Step.BODY_SITE_TEXT, Typed("y" * (BODY_SITE_MAX + 1)), "same", note=INVALID_SITE),
    Row(Step.BODY_SITE_TEXT, "skip", Step.ITCH, stored={"body_site": None}),
    Row(Step.ITCH, "o", Step.PAIN, stored={"itch": Severity.MILD_TO_MODERATE}),
    Row(Step.ITCH, "skip", Step.PAIN, stored={"itch": None}),
    Row(Step.PAIN, "x", Step.ONSET, stored={"pain": Severity.NONE}),
    Row(Step.PAIN, "v", Step.SUMMARY, editing=True, stored={"pain": Severity.SEVERE}),
    Row(Step.ONSET, "w", Step.RECENT_CHANGE, stored={"onset": Onset.UNDER_A_MONTH}),
    Row(Step.ONSET, "skip", Step.RECENT_CHANGE, stored={"onset": None}),
    Row(Step.ONSET, "d", Step.SUMMARY, editing=True, stored={"onset": Onset.UNDER_A_WEEK}),
    Row(Step.ONSET, "never", "stale"),
    Row(Step.RECENT_CHANGE, "bleeds", Step.SUMMARY, stored={"recent_change": RecentChange.BLEEDS}),
    Row(
        Step.RECENT_CHANGE,
        "grew_or_changed",
        Step.SUMMARY,
        stored={"recent_change": RecentChange.GREW_OR_CHANGED},
    ),
    Row(
        Step.RECENT_CHANGE,
        "no_change",
        Step.SUMMARY,
        editing=True,
        stored={"recent_change": RecentChange.NO_CHANGE},
    ),
    Row(Step.RECENT_CHANGE, "skip", Step.SUMMARY, stored={"recent_change": None}),
    Row(Step.RECENT_CHANGE, Typed("it bleeds"), "same", note=("use_buttons", {})),
    Row(Step.RECENT_CHANGE, "never", "stale"),
    # The summary: send, cancel, or change one answer (and come back to the summary).
    Row(Step.SUMMARY, "send", "submit"),
    Row(
        Step.SUMMARY,
        "send",
        Step.INTIMATE_CONFIRM,
        before={"body_site": "genital", "birth_year": ADULT},
    ),
    Row(Step.SUMMARY, "send", Step.INTIMATE_CONFIRM, before={"body_site": "genital"}),
    Row(Step.SUMMARY, "send", "refuse", before={"body_site": "genital", "birth_year": CHILD}),
    Row(Step.SUMMARY, "cancel", "cancel"),
    Row(Step.SUMMARY, "change", Step.CHANGE),
    Row(Step.SUMMARY, "own", "stale"),
    Row(Step.SUMMARY, Typed("send it"), "same", note=("use_buttons", {})),
    Row(Step.CHANGE, "back", Step.SUMMARY),
    Row(Step.CHANGE, "photos", Step.PHOTOS),
    Row(Step.CHANGE, "sex", Step.SEX),
    Row(Step.CHANGE, "birth_year", Step.BIRTH_YEAR),
    Row(Step.CHANGE, "patient_ref", Step.PATIENT_REF, whose=OTHER),
    Row(Step.CHANGE, "patient_ref", "stale"),  # one's own skin has no reference
    Row(Step.CHANGE, "summary", "stale"),
    # Intimate photos of an adult: one explicit yes, or back to the body site, or cancel.
    Row(
        Step.INTIMATE_CONFIRM,
        "send",
        "submit",
        before={"body_site": "genital", "birth_year": ADULT},
    ),
    Row(Step.INTIMATE_CONFIRM, "site", Step.BODY_SITE, before={"body_site": "genital"}),
    Row(Step.INTIMATE_CONFIRM, "cancel", "cancel"),
    Row(Step.INTIMATE_CONFIRM, "change", "stale"),
]


def case_at(row: Row) -> Case:
    answers = {k: v for k, v in row.before.items() if k != "patient_ref"}
    case = Case(
        public_id=uuid.uuid4(),
        step=row.step,
        subject=row.whose,
        patient_ref=row.before.get("patient_ref"),
        editing=row.editing,
        answers=answers or None,
    )
    for position in range(1, row.photos + 1):
        # As their acknowledgement leaves them.
        photo = CasePhoto(position=position, file_id=f"f{position}", state=PhotoState.ACCEPTED)
        case.photos.append(photo)
    return case


def apply(case: Case, given: str | Typed) -> Outcome:
    if isinstance(given, Typed):
        return apply_text(case, given.words)
    return apply_button(case, Step(case.step), given)


def happened(outcome: Outcome, case: Case, before: Step) -> Step | str:
    for what in ("submit", "cancel", "refuse", "stale"):
        if getattr(outcome, what):
            return what
    assert outcome.view is not None
    assert outcome.view.step is Step(case.step)
    return "same" if Step(case.step) is before else Step(case.step)


def stored_of(case: Case) -> dict[str, Any]:
    return {
        **case.questionnaire.to_dict(),
        "subject": case.subject,
        "patient_ref": case.patient_ref,
    }


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_an_input_at_a_step_gives_the_next_step_the_answer_and_the_message(row: Row) -> None:
    case = case_at(row)
    was = stored_of(case)
    outcome = apply(case, row.given)

    assert happened(outcome, case, row.step) == row.then
    if not isinstance(row.then, Step):
        assert Step(case.step) is row.step, "the case stays where it was"
    # Exactly the answers of this row changed, to these values.
    assert stored_of(case) == {**was, **row.stored}
    if row.note is None:
        assert outcome.note is None
    else:
        key, values = row.note
        if key == "q_birth_year_invalid":
            values = {**values, "youngest": youngest_birth_year()}
        assert outcome.note == text(key, **values)
    assert case.editing is editing_after(row)


def editing_after(row: Row) -> bool:
    """Back at the summary nothing is being edited; a step chosen from "Change" (or the body
    site, from the intimate photos' question) is edited, and its answer leads back there."""
    if row.then is Step.SUMMARY:
        return False
    if row.step is Step.CHANGE and isinstance(row.then, Step):
        return True
    if row.step is Step.INTIMATE_CONFIRM and row.then is Step.BODY_SITE:
        return True
    return row.editing


def test_the_table_covers_every_step() -> None:
    assert {row.step for row in ROWS} == set(Step)
    reached = {row.then for row in ROWS if isinstance(row.then, Step)}
    # "Whose skin" and "Next patient" only start a case.
    assert reached == set(Step) - {Step.SUBJECT, Step.NEXT_PATIENT}


@pytest.mark.parametrize("step", list(Step), ids=str)
@pytest.mark.parametrize("whose", [OWN, OTHER], ids=["own", "other"])
def test_every_choice_a_screen_renders_is_accepted_by_its_handler(
    step: Step, whose: Subject
) -> None:
    """Walk every step's screen and press each of its buttons: none may be stale, and each
    moves on (or submits, cancels) as its declaration says."""
    for button in rendered_buttons(step, whose):
        case = case_at(Row(step, "", "same", whose=whose, before={"birth_year": ADULT}))
        pressed = decode(str(button.callback_data))
        assert isinstance(pressed, CaseButton) and pressed.step is step
        outcome = apply_button(case, step, pressed.value)
        assert not outcome.stale, (step, button.text, pressed.value)
        if (question := QUESTION_SCREENS.get(step)) is not None:
            choice = question.choice(pressed.value)
            if choice is not None and choice.leads_to is None:
                assert Step(case.step) is step_after(step, editing=False)
                assert getattr(case.questionnaire, question.answers) is not None


def rendered_buttons(step: Step, whose: Subject) -> list[InlineKeyboardButton]:
    view = CaseView(str(uuid.uuid4()), step, photo_count=1, subject_is_own=whose is OWN)
    keyboard = screen(view).keyboard
    assert keyboard is not None
    return [button for row in keyboard.inline_keyboard for button in row]
