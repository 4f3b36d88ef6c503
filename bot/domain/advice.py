"""What to do next, from the AI's answer: a heuristic, not clinical guidance.

The Model Dermatology API returns ranked condition names and an integer "malignancy output" whose
scale is undocumented. The bot turns them into one of three advice tiers with simple, configurable
rules, erring towards "see a doctor": a false alarm costs an appointment, a missed cancer costs far
more. The rules are not validated clinically; operators should review them with a clinician and
may replace the condition lists with a JSON file (`ADVICE_RULES_FILE`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire


class AdviceTier(StrEnum):
    """One urgency scale, most urgent first: how soon to see someone."""

    URGENT_CARE = "urgent_care"
    WITHIN_DAYS = "within_days"
    WITHIN_2_WEEKS = "within_2_weeks"
    IF_NO_IMPROVEMENT = "if_no_improvement"
    SELF_CARE = "self_care"

    @property
    def urgency(self) -> int:
        """Higher is sooner: 4 for urgent care now, 0 for self-care."""
        return len(_TIER_ORDER) - 1 - _TIER_ORDER.index(self)


_TIER_ORDER: tuple[AdviceTier, ...] = tuple(AdviceTier)


# Substrings of the model's English names (lower case). The model spells some names its own way
# ("Inflammed cyst"), so we match fragments rather than exact names.
MALIGNANT_OR_PREMALIGNANT = (
    "melanoma",
    "carcinoma",
    "sarcoma",
    "lymphoma",
    "mycosis fungoides",
    "malignan",
    "metasta",
    "merkel",
    "bowen",
    "keratoacanthoma",
    "actinic keratosis",
    "actinic cheilitis",
    "lentigo maligna",
    "paget",
    "leukoplakia",
    "dysplastic nevus",
    "atypical nevus",
)
# Conditions that usually need a doctor's treatment within days (infections, inflammation that can
# spread, wounds).
NEEDS_A_DOCTOR = (
    "cellulitis",
    "erysipelas",
    "abscess",
    "herpes zoster",
    "eczema herpeticum",
    "impetigo",
    "scabies",
    "syphilis",
    "stevens",
    "necroti",
    "vasculitis",
    "pyoderma",
    "ulcer",
    "burn",
    "erythema multiforme",
    "pemphig",
    "urticaria",
)


@dataclass(frozen=True, slots=True)
class AdviceRules:
    # Only the top results are considered: a melanoma at rank 9 with 1% is noise.
    top_n: int = 5
    malignant_threshold: float = 0.10
    # Scale undocumented; benign-looking answers in the API's samples carry 1 to 6.
    malignancy_output_threshold: int | None = 10
    see_doctor_threshold: float = 0.20
    # Below this top AI match score the AI is unsure, and the advice never self-care only.
    unsure_below: float = 0.20
    malignant_patterns: tuple[str, ...] = MALIGNANT_OR_PREMALIGNANT
    see_doctor_patterns: tuple[str, ...] = NEEDS_A_DOCTOR

    def with_file(self, path: Path) -> AdviceRules:
        """These rules with condition lists (and thresholds) replaced from a JSON file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        changes: dict[str, object] = {}
        for key in ("malignant_patterns", "see_doctor_patterns"):
            if key in data:
                changes[key] = tuple(str(p).lower() for p in data[key])
        for key in ("top_n", "malignancy_output_threshold"):
            if key in data:
                changes[key] = None if data[key] is None else int(data[key])
        for key in ("malignant_threshold", "see_doctor_threshold", "unsure_below"):
            if key in data:
                changes[key] = float(data[key])
        return replace(self, **changes)  # type: ignore[arg-type]


class Why(StrEnum):
    """Why the advice is what it is: one member per rule."""

    EMERGENCY = "emergency"
    NEEDS_TREATMENT = "needs_treatment"
    POSSIBLE_CANCER = "possible_cancer"
    CHANGED = "changed"
    SEVERE_PAIN = "severe_pain"
    RECENT_SEVERE = "recent_severe"
    UNSURE = "unsure"
    NOTHING_NAMED = "nothing_named"


@dataclass(frozen=True, slots=True)
class Reason:
    why: Why
    # The tier this rule asks for at least.
    tier: AdviceTier
    # API names (as the API spells them) that triggered it.
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Advice:
    tier: AdviceTier
    # Every rule that fired, most urgent first; reasons[0] set the tier.
    reasons: tuple[Reason, ...] = ()
    # The top AI match score is below rules.unsure_below.
    unsure: bool = False
    # "Nonspecific (normal)" is among the top matches.
    nonspecific: bool = False


NONSPECIFIC = "nonspecific"


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(p in lowered for p in patterns)


def _names(
    conditions: tuple[Condition, ...], threshold: float, patterns: tuple[str, ...]
) -> tuple[str, ...]:
    return tuple(
        c.name for c in conditions if c.probability >= threshold and _matches(c.name, patterns)
    )


def advise(diagnosis: Diagnosis, questionnaire: Questionnaire, rules: AdviceRules) -> Advice:
    # The questionnaire's rules (recent change, severe pain) are helper A's rewrite.
    del questionnaire
    top = diagnosis.conditions[: rules.top_n]
    reasons: list[Reason] = []
    cancer = _names(top, rules.malignant_threshold, rules.malignant_patterns)
    threshold = rules.malignancy_output_threshold
    high_output = (
        threshold is not None
        and diagnosis.malignancy_output is not None
        and diagnosis.malignancy_output >= threshold
    )
    if cancer or high_output:
        reasons.append(Reason(Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS, cancer))
    if not diagnosis.conditions:
        # Nothing named is nothing known: never a reason to reassure.
        reasons.append(Reason(Why.NOTHING_NAMED, AdviceTier.WITHIN_DAYS))
    treatment = _names(top, rules.see_doctor_threshold, rules.see_doctor_patterns)
    if treatment:
        reasons.append(Reason(Why.NEEDS_TREATMENT, AdviceTier.WITHIN_DAYS, treatment))
    unsure = bool(top) and top[0].probability < rules.unsure_below
    if unsure:
        reasons.append(Reason(Why.UNSURE, AdviceTier.IF_NO_IMPROVEMENT))
    reasons.sort(key=lambda reason: -reason.tier.urgency)
    tier = reasons[0].tier if reasons else AdviceTier.SELF_CARE
    nonspecific = any(NONSPECIFIC in c.name.lower() for c in top)
    return Advice(tier, tuple(reasons), unsure=unsure, nonspecific=nonspecific)
