"""Every step has a screen, every button decodes back to its step, and every text exists."""

from __future__ import annotations

import re
import string
import uuid
from pathlib import Path

import pytest

from bot.conversation.language import language_keyboard
from bot.conversation.screens import (
    CaseView,
    consent_keyboard,
    delete_keyboard,
    photo_warning_row,
    screen,
    withdraw_keyboard,
)
from bot.domain.questionnaire import Onset, Questionnaire, RecentChange, Severity, Sex
from bot.domain.steps import QUESTIONS, Step, step_after
from bot.i18n.texts import MESSAGES, PLURALS, text
from bot.routing import BUTTON_FAMILIES
from bot.terms import LANGUAGES, Terms
from bot.views.buttons import (
    CaseButton,
    GlobalButton,
    case_ref,
    decode,
    global_button,
    pattern,
)
from bot.views.keyboards import new_case_keyboard, try_again_keyboard

BOT_PACKAGE = Path(__file__).resolve().parents[2] / "bot"
PUBLIC_ID = "0f1e2d3c-4b5a-4968-8776-655443322110"


@pytest.mark.parametrize("step", list(Step))
def test_every_step_has_a_screen_whose_buttons_answer_that_case(step: Step) -> None:
    shown = screen(CaseView(PUBLIC_ID, step, photo_count=2, subject_is_own=False))
    assert shown.text.strip()
    assert shown.keyboard is not None
    for row in shown.keyboard.inline_keyboard:
        for button in row:
            assert isinstance(button.callback_data, str)
            assert len(button.callback_data.encode()) <= 64
            pressed = decode(button.callback_data)
            assert isinstance(pressed, CaseButton)
            assert pressed.ref == case_ref(PUBLIC_ID)
            assert pressed.step is step


def test_photo_screen_offers_done_only_after_a_photo() -> None:
    assert screen(CaseView(PUBLIC_ID, Step.PHOTOS, photo_count=0)).keyboard is None
    assert screen(CaseView(PUBLIC_ID, Step.PHOTOS, photo_count=1)).keyboard is not None


def test_summary_shows_every_answer_and_skipped_ones() -> None:
    q = Questionnaire(
        birth_year=1984,
        sex=Sex.FEMALE,
        skin_type=3,
        body_site="left ear",
        itch=Severity.SEVERE,
        pain=None,
        onset=Onset.UNDER_A_MONTH,
        recent_change=RecentChange.BLEEDS,
    )
    shown = screen(CaseView(PUBLIC_ID, Step.SUMMARY, 3, False, "PT-7", q)).text
    for fragment in (
        "Photos: 3",
        "Reference: PT-7",
        "Year of birth: 1984",
        "Sex: Female",
        "Skin type: III",
        "Body site: left ear",
        "Itch: Severe",
        "Pain: not given",
        "How long: Less than a month",
        "Changed lately: It bleeds",
    ):
        assert fragment in shown


def test_typed_values_are_escaped_in_the_summary() -> None:
    q = Questionnaire(body_site="<b>arm</b>")
    shown = screen(CaseView(PUBLIC_ID, Step.SUMMARY, 1, False, "<i>x", q)).text
    assert "<b>arm" not in shown and "&lt;b&gt;arm" in shown
    assert "&lt;i&gt;x" in shown


def test_questions_come_in_order_and_editing_returns_to_the_summary() -> None:
    step = Step.PHOTOS
    seen = []
    while step is not Step.SUMMARY:
        step = step_after(step, editing=False)
        seen.append(step)
    assert tuple(seen[:-1]) == QUESTIONS
    assert step_after(Step.BODY_SITE_TEXT, editing=False) is Step.ITCH
    for question in QUESTIONS:
        assert step_after(question, editing=True) is Step.SUMMARY


def test_foreign_or_malformed_button_data_decodes_to_nothing() -> None:
    for data in (None, "", "x", "c|abc|nostep|1", "c|a|b", "g|only"):
        assert decode(data) is None
    assert decode(global_button("delete", "yes")) == GlobalButton("delete", "yes")
    keyboard = consent_keyboard("3", "en")
    data = keyboard.inline_keyboard[0][0].callback_data
    assert decode(data if isinstance(data, str) else None) == GlobalButton("consent", "3:en:yes")


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_buttons_carry_the_derived_version_within_64_bytes(language: str) -> None:
    shown = Terms.build(retention_days=36500, clinic=True)
    version = shown.version(language)
    for row in consent_keyboard(version, language).inline_keyboard:
        data = row[0].callback_data
        assert isinstance(data, str) and len(data.encode()) <= 64
        pressed = decode(data)
        assert isinstance(pressed, GlobalButton)
        assert pressed.value.split(":")[:2] == [version, language]


def test_every_message_id_used_in_the_code_exists_and_formats() -> None:
    source = "\n".join(p.read_text("utf-8") for p in BOT_PACKAGE.rglob("*.py"))
    used = set(re.findall(r"\btext\(\s*\"([a-z0-9_]+)\"", source))
    used |= set(re.findall(r"\braw\(\s*\"([a-z0-9_]+)\"", source))
    assert used, "the scan found no message ids: the pattern is wrong"
    known = MESSAGES.keys() | PLURALS.keys()
    assert used <= known, used - known
    for key, template in MESSAGES.items():
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        text(key, **dict.fromkeys(names, "x"))  # no KeyError, no stray braces
    for key, forms in PLURALS.items():
        names = {f for form in forms for _, f, _, _ in string.Formatter().parse(form) if f}
        assert "count" in names, f"{key}: the number a plural message counts is {{count}}"
        text(key, **{**dict.fromkeys(names, "x"), "count": 2})


def test_message_ids_for_every_answer_code_exist() -> None:
    for s in Sex:
        assert f"sex_{s.value}" in MESSAGES
    for sev in Severity:
        assert f"severity_{sev.value}" in MESSAGES
    for o in Onset:
        assert f"onset_{o.value}" in MESSAGES


def test_every_button_any_screen_renders_is_taken_by_its_familys_handler() -> None:
    """Each family of buttons has its own CallbackQueryHandler: every button a screen renders
    must match exactly the pattern of the family that handles it."""
    keyboards = [
        screen(CaseView(PUBLIC_ID, step, photo_count=2, subject_is_own=False)).keyboard
        for step in Step
    ]
    keyboards += [
        consent_keyboard("v1", "en"),
        delete_keyboard(),
        withdraw_keyboard(),
        language_keyboard(),
        new_case_keyboard(),
        try_again_keyboard(uuid.UUID(PUBLIC_ID)),
    ]
    rows = [row for keyboard in keyboards if keyboard for row in keyboard.inline_keyboard]
    rows.append(photo_warning_row(PUBLIC_ID, 2))
    for row in rows:
        for button in row:
            data = str(button.callback_data)
            taken = [kind for kind, _ in BUTTON_FAMILIES if re.match(pattern(kind), data)]
            assert len(taken) == 1, (button.text, data, taken)
