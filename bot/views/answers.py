"""The person's answers in words, as the summary and the clinic's card show them."""

from __future__ import annotations

from bot.domain.questionnaire import Questionnaire
from bot.domain.steps import BODY_SITES, Step
from bot.i18n.texts import text


def answer_label(step: Step, q: Questionnaire) -> str | None:
    """The person's answer to a question as they chose it, or None when skipped."""
    if step is Step.BIRTH_YEAR:
        return None if q.birth_year is None else str(q.birth_year)
    if step is Step.SEX:
        return None if q.sex is None else text(f"sex_{q.sex.value}")
    if step is Step.SKIN_TYPE:
        return None if q.skin_type is None else text(f"skin_{q.skin_type}")
    if step is Step.BODY_SITE:
        if q.body_site is None:
            return None
        return text(f"site_{q.body_site}") if q.body_site in BODY_SITES else q.body_site
    if step is Step.ITCH:
        return None if q.itch is None else text(f"severity_{q.itch.value}")
    if step is Step.PAIN:
        return None if q.pain is None else text(f"severity_{q.pain.value}")
    if step is Step.ONSET:
        return None if q.onset is None else text(f"onset_{q.onset.value}")
    if step is Step.RECENT_CHANGE:
        return None if q.recent_change is None else text(f"q_change_{q.recent_change.value}")
    raise ValueError(step)
