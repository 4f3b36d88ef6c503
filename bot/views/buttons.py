"""Button payloads (Telegram `callback_data`, at most 64 bytes).

A case's buttons carry the case's short reference and the step they were shown for, so that a
press on an old message, for another case or an earlier step, is recognised as stale and changes
nothing. Buttons that belong to no case (consent, erase, new check) carry their own kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.steps import Step

SEPARATOR = "|"
CASE_REF_LENGTH = 12


def case_ref(public_id: str) -> str:
    return public_id.replace("-", "")[:CASE_REF_LENGTH]


@dataclass(frozen=True, slots=True)
class CaseButton:
    """A press that answers the step `step` of the case `ref`."""

    ref: str
    step: Step
    value: str

    def encode(self) -> str:
        return SEPARATOR.join(("c", self.ref, self.step.value, self.value))


@dataclass(frozen=True, slots=True)
class GlobalButton:
    """A press not tied to a step: `consent`, `delete`, `new`, and `again` (its value is the
    case's id, sent again after unreadable answers)."""

    kind: str
    value: str = ""

    def encode(self) -> str:
        return SEPARATOR.join(("g", self.kind, self.value))


class Kind(StrEnum):
    """The families of buttons that belong to no step."""

    CONSENT = "consent"
    DELETE = "delete"
    WITHDRAW = "withdraw"
    LANGUAGE = "lang"
    AGAIN = "again"
    NEW = "new"
    NEXT_PATIENT = "next"
    HISTORY = "hist"
    EXPORT = "export"
    # Follow-up reminders: set or cancel one under a result ("<case>:<days>", "<case>:x"), a
    # reminder's "Check it again" ("<case>"), and /reminders' cancel buttons ("<reminder id>").
    REMIND = "remind"
    CHECK_AGAIN = "recheck"
    REMINDERS = "reminders"


def pattern(kind: str) -> str:
    """The callback data pattern of one family of buttons: "case" for a case's steps, or a
    global button's kind (each family has its own CallbackQueryHandler)."""
    if kind == "case":
        return r"^c\|"
    return rf"^g\|{re.escape(kind)}\|"


def case_button(public_id: str, step: Step, value: str) -> str:
    data = CaseButton(case_ref(public_id), step, value).encode()
    assert len(data.encode()) <= 64, data
    return data


def global_button(kind: str, value: str = "") -> str:
    return GlobalButton(kind, value).encode()


def decode(data: str | None) -> CaseButton | GlobalButton | None:
    """The button pressed, or None for data this bot never made (or an older format)."""
    if not data:
        return None
    parts = data.split(SEPARATOR)
    if parts[0] == "c" and len(parts) == 4:
        try:
            return CaseButton(parts[1], Step(parts[2]), parts[3])
        except ValueError:
            return None
    if parts[0] == "g" and len(parts) == 3:
        return GlobalButton(parts[1], parts[2])
    return None
