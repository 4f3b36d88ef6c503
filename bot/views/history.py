"""/history as the person reads it: a page of their checks, one check's details, and the buttons
that go from one to the other (one message, edited in place)."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.db.history import CheckEntry, HistoryPage
from bot.db.models import CaseStatus
from bot.domain.diagnosis import Condition
from bot.domain.steps import QUESTIONS, Step
from bot.i18n import formatting as fmt
from bot.i18n.texts import raw, text
from bot.views.answers import answer_label
from bot.views.buttons import Kind, global_button
from bot.views.result import condition_label

# Detail buttons per row under a page: numbers, as the lines are numbered.
NUMBERS_PER_ROW = 5
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# Base-36 digits of the largest row id (2**63 - 1 has 13; 12 is past any real id).
_ID_DIGITS = 12


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _DIGITS[digit] + digits
        if not number:
            return digits


@dataclass(frozen=True, slots=True)
class HistoryPress:
    """Where a /history button leads: the page anchored at `top` (0: the newest) of the list
    filtered by the code of check `code_of` (0: unfiltered), or check `check`'s details (with
    that page to go back to)."""

    top: int = 0
    code_of: int = 0
    check: int = 0

    def encode(self) -> str:
        return ".".join(_base36(n) for n in (self.top, self.code_of, self.check))

    @classmethod
    def decode(cls, value: str) -> HistoryPress | None:
        parts = value.split(".")
        # Row ids are 64-bit: longer digits are forged, and would overflow the database.
        if len(parts) != 3 or any(len(part) > _ID_DIGITS for part in parts):
            return None
        try:
            top, code_of, check = (int(part, 36) for part in parts)
        except ValueError:
            return None
        if min(top, code_of, check) < 0:
            return None
        return cls(top, code_of, check)


def _button(label: str, press: HistoryPress) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=global_button(Kind.HISTORY, press.encode()))


def condition_name(condition: Condition) -> str:
    """A condition's plain name in the person's language (plain text, not HTML); the AI's own
    label, quoted, when the bot does not know it (text the API sends must not read as the bot's
    own words)."""
    return condition_label(condition.name, "history_ai_label")[0]


def _state(entry: CheckEntry) -> str | None:
    """What a check that has no result to show is doing, or None when it has one."""
    if entry.undelivered:
        return text("status_undelivered")
    if entry.status is CaseStatus.COMPLETED and entry.diagnosis is not None:
        return None
    return text(f"status_{entry.status.value}")


def _line(number: int, entry: CheckEntry, zone: dt.tzinfo) -> str:
    parts = [fmt.date(entry.checked_at, zone)]
    if entry.patient_ref:
        parts.append(entry.patient_ref)
    site = answer_label(Step.BODY_SITE, entry.questionnaire)
    if site:
        parts.append(site)
    state = _state(entry)
    if state is not None:
        parts.append(state)
    elif entry.advice is not None and entry.diagnosis is not None:
        parts.append(text(f"card_tier_{entry.advice.tier.value}"))
        conditions = entry.diagnosis.conditions
        parts.append(condition_name(conditions[0]) if conditions else text("history_no_result"))
    escaped = " · ".join(html.escape(part, quote=False) for part in parts)
    return raw("history_line", number=number, line=escaped)


def history_page_view(
    page: HistoryPage, zone: dt.tzinfo, code_of: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The page's text and buttons: a numbered line per check, a button to open each, and
    "newer" / "older" where there are more."""
    first, last = page.before + 1, page.before + len(page.entries)
    if page.code is not None:
        title = text("history_title_code", code=page.code, first=first, last=last, total=page.total)
    else:
        title = text("history_title", first=first, last=last, total=page.total)
    lines = [title, ""]
    top = page.entries[0].row_id if page.entries else 0
    numbers: list[InlineKeyboardButton] = []
    for number, entry in enumerate(page.entries, start=first):
        lines.append(_line(number, entry, zone))
        numbers.append(_button(str(number), HistoryPress(top, code_of, entry.row_id)))
    lines += ["", text("history_open_hint")]
    rows = [numbers[i : i + NUMBERS_PER_ROW] for i in range(0, len(numbers), NUMBERS_PER_ROW)]
    moves = []
    if page.newer is not None:
        moves.append(_button(text("history_newer"), HistoryPress(page.newer, code_of)))
    if page.older is not None:
        moves.append(_button(text("history_older"), HistoryPress(page.older, code_of)))
    if moves:
        rows.append(moves)
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def check_view(
    entry: CheckEntry, zone: dt.tzinfo, back: HistoryPress, top_conditions: int
) -> tuple[str, InlineKeyboardMarkup]:
    """One check in full: its answers, the conditions with their AI match scores, the advice and
    the clinic's decision (never the malignancy output), and the way back to the list."""
    short = entry.public_id.hex[:8]
    heading = [text("history_check_title", case=short), fmt.date(entry.checked_at, zone)]
    if entry.patient_ref:
        heading.append(html.escape(entry.patient_ref, quote=False))
    lines = [" · ".join(heading)]
    state = _state(entry)
    if state is not None:
        lines.append(text("history_check_state", state=state))
    lines += ["", text("history_answers")]
    skipped = text("summary_skipped")
    for step in QUESTIONS:
        value = answer_label(step, entry.questionnaire) or skipped
        lines.append(text("summary_line", label=text(f"label_{step.value}"), value=value))
    if entry.diagnosis is not None and entry.advice is not None:
        lines += ["", text("history_conditions")]
        conditions = entry.diagnosis.conditions[:top_conditions]
        for rank, condition in enumerate(conditions, start=1):
            lines.append(
                text(
                    "history_condition",
                    rank=rank,
                    name=condition_name(condition),
                    score=fmt.percent(condition.probability),
                )
            )
        if not conditions:
            lines.append(text("history_no_result"))
        advice = text(f"advice_{entry.advice.tier.value}")
        lines += ["", raw("history_advice", advice=advice)]
    if entry.clinic_decision is not None:
        decision = text(f"triage_decision_{entry.clinic_decision.value}")
        lines += ["", text("history_clinic_decision", decision=decision)]
    keyboard = InlineKeyboardMarkup([[_button(text("history_back"), back)]])
    return "\n".join(lines), keyboard
