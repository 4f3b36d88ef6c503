"""The steps of a case's conversation and the order the questions come in.

The current step is stored on the case row, so the conversation continues after a restart exactly
where the person left it (see bot/conversation/flow.mmd).
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    SUBJECT = "subject"
    PATIENT_REF = "patient_ref"
    # "Next patient" under a result for someone else: the patient code first, then the press
    # that records their (or their guardian's) permission, which answers whose skin it is.
    NEXT_PATIENT = "next_patient"
    PHOTOS = "photos"
    BIRTH_YEAR = "birth_year"
    SEX = "sex"
    SKIN_TYPE = "skin_type"
    BODY_SITE = "body_site"
    BODY_SITE_TEXT = "body_site_text"
    ITCH = "itch"
    PAIN = "pain"
    ONSET = "onset"
    RECENT_CHANGE = "recent_change"
    SUMMARY = "summary"
    CHANGE = "change"
    # Intimate photos of an adult (bot/domain/safeguards.py): one explicit yes before they are sent.
    INTIMATE_CONFIRM = "intimate_confirm"


QUESTIONS: tuple[Step, ...] = (
    Step.BIRTH_YEAR,
    Step.SEX,
    Step.SKIN_TYPE,
    Step.BODY_SITE,
    Step.ITCH,
    Step.PAIN,
    Step.ONSET,
    # Kept on the case for the advice; never sent to the API, which has no tag for it.
    Step.RECENT_CHANGE,
)

# A follow-up check (bot/domain/follow_up.py) carries who it is and where it is over, and asks
# these again after its photos; how long it has been there is the earlier answer moved on by
# the time passed (still changeable on the summary).
FOLLOW_UP_QUESTIONS: tuple[Step, ...] = (Step.ITCH, Step.PAIN, Step.RECENT_CHANGE)

# Body sites offered as buttons; the stored value is the English word the API's examples use.
BODY_SITES: tuple[str, ...] = (
    "face",
    "scalp",
    "neck",
    "chest",
    "back",
    "belly",
    "arm",
    "hand",
    "leg",
    "foot",
    "genital",
)


def step_after(step: Step, *, editing: bool, follow_up: bool = False) -> Step:
    """The step that follows `step` once it is answered (or skipped); `follow_up`: in a
    follow-up check, which asks only FOLLOW_UP_QUESTIONS."""
    asked = FOLLOW_UP_QUESTIONS if follow_up else QUESTIONS
    if step in (Step.SUBJECT, Step.NEXT_PATIENT):
        return Step.PHOTOS
    if step is Step.PATIENT_REF:
        return Step.SUMMARY if editing else Step.PHOTOS
    if step is Step.PHOTOS:
        return Step.SUMMARY if editing else asked[0]
    if step is Step.BODY_SITE_TEXT:
        step = Step.BODY_SITE
    if editing or step not in asked:
        return Step.SUMMARY
    index = asked.index(step)
    return asked[index + 1] if index + 1 < len(asked) else Step.SUMMARY
