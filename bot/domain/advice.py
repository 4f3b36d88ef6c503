"""What to do next, from the AI's answer: a heuristic, not clinical guidance.

The Model Dermatology API returns ranked condition names and an integer "malignancy output" whose
scale is undocumented. The bot turns them into one of three advice tiers with simple, configurable
rules, erring towards "see a doctor": a false alarm costs an appointment, a missed cancer costs far
more. The rules are not validated clinically; operators should review them with a clinician and
may replace the condition lists with a JSON file (`ADVICE_RULES_FILE`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from bot.domain.diagnosis import Diagnosis
from bot.i18n.limits import display_label


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
        for key in ("malignant_threshold", "see_doctor_threshold"):
            if key in data:
                changes[key] = float(data[key])
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Advice:
    tier: AdviceTier
    # Why this tier, for logs, triage and tests: e.g. "Melanoma 23%" (names cut short).
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(p in lowered for p in patterns)


def advise(diagnosis: Diagnosis, rules: AdviceRules) -> Advice:
    top = diagnosis.conditions[: rules.top_n]
    reasons = tuple(
        f"{display_label(c.name)} {c.probability:.0%}"
        for c in top
        if c.probability >= rules.malignant_threshold and _matches(c.name, rules.malignant_patterns)
    )
    threshold = rules.malignancy_output_threshold
    if (
        threshold is not None
        and diagnosis.malignancy_output is not None
        and diagnosis.malignancy_output >= threshold
    ):
        reasons += (f"malignancy output {diagnosis.malignancy_output}",)
    if reasons:
        return Advice(AdviceTier.WITHIN_2_WEEKS, reasons)
    if not diagnosis.conditions:
        # Nothing named is nothing known: never a reason to reassure.
        return Advice(AdviceTier.WITHIN_DAYS, ("no condition named",))
    reasons = tuple(
        f"{display_label(c.name)} {c.probability:.0%}"
        for c in top
        if c.probability >= rules.see_doctor_threshold
        and _matches(c.name, rules.see_doctor_patterns)
    )
    if reasons:
        return Advice(AdviceTier.WITHIN_DAYS, reasons)
    return Advice(AdviceTier.SELF_CARE)
