"""What to do next, from the AI's answer and the person's own answers: a heuristic, not clinical
guidance.

The rules are ONE table, `RULES`, most urgent first: each row names the tier it asks for at
least, the rule, and why. `advise` evaluates every row; the most urgent row that fires sets the
tier, and every row that fired is a reason. The table is meant to be reviewed by a clinician in
five minutes: `python -m bot advice-rules` prints it with the thresholds in force, and
docs/advice.md holds it with the reasoning and the measured share of answers flagged unsure.

The rules err towards "see a doctor": a false alarm costs an appointment, a missed cancer or
infection costs far more. They are not validated clinically; operators should review them with a
clinician, may change the thresholds (ADVICE_* settings) and may replace the condition lists with
a JSON file (ADVICE_RULES_FILE).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Onset, Questionnaire, RecentChange, Severity


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

    @property
    def time_frame(self) -> str:
        """The tier's time frame in the rule table's words (English, for clinicians; what the
        person reads is in bot/i18n)."""
        return TIME_FRAMES[self]


_TIER_ORDER: tuple[AdviceTier, ...] = tuple(AdviceTier)

TIME_FRAMES: Mapping[AdviceTier, str] = {
    AdviceTier.URGENT_CARE: "now: urgent care or an emergency department",
    AdviceTier.WITHIN_DAYS: "a doctor within a few days",
    AdviceTier.WITHIN_2_WEEKS: "a dermatologist within 2 weeks",
    AdviceTier.IF_NO_IMPROVEMENT: "a doctor if it does not improve in 2-4 weeks",
    AdviceTier.SELF_CARE: "self-care and watch; a doctor if it changes or worries you",
}


class Why(StrEnum):
    """Why a rule fired: one member per row of `RULES` (the result message words each one)."""

    EMERGENCY = "emergency"  # a condition that is an emergency (SJS/TEN, necrotising infection)
    NEEDS_TREATMENT = "needs_treatment"  # an infection or condition that needs treatment
    POSSIBLE_CANCER = "possible_cancer"  # a skin cancer or pre-cancer among the top matches
    # The AI's "malignancy output" is at or above its threshold (its scale is not published).
    MALIGNANCY_OUTPUT = "malignancy_output"
    CHANGED = "changed"  # the person says it bleeds, or grew / changed shape or colour
    SEVERE_PAIN = "severe_pain"
    RECENT_SEVERE = "recent_severe"  # there under a week, with severe itch or pain
    # A condition usually treated at home (eczema, fungal infection, acne, psoriasis) that
    # needs a doctor when it persists.
    SEE_IF_PERSISTS = "see_if_persists"
    UNSURE = "unsure"  # the top AI match score is below the threshold
    # "Nonspecific (normal)" is the top match: the AI recognised nothing specific, which does
    # not mean the skin is healthy.
    NONSPECIFIC = "nonspecific"
    NOTHING_NAMED = "nothing_named"  # the AI named no condition
    # No other row fired: self-care and watch (never an "all clear").
    NONE_ABOVE = "none_above"


class ConditionList(StrEnum):
    """The condition lists of the table, each with its own minimum AI match score."""

    EMERGENCY = "emergency"
    TREATMENT = "treatment"
    CANCER = "cancer"
    PERSISTS = "persists"


# Substrings of the model's English names (lower case). The model spells some names its own way
# ("Inflammed cyst"), so we match fragments rather than exact names. A condition counts for the
# most urgent list that names it ("Eczema herpeticum" is an emergency, not an eczema).
EMERGENCY_CONDITIONS = (
    "stevens",  # Stevens-Johnson syndrome
    "toxic epidermal",  # toxic epidermal necrolysis (TEN)
    "necroti",  # necrotising fasciitis / infection
    "eczema herpeticum",
    "scalded skin",  # staphylococcal scalded skin syndrome
    "purpura fulminans",
    "angioedema",
)
NEEDS_TREATMENT = (
    "cellulitis",
    "erysipelas",
    "abscess",
    "furuncle",
    "carbuncle",
    "herpes zoster",
    "shingles",
    "impetigo",
    "scabies",
    "syphilis",
    "erythema migrans",  # Lyme disease
    "paronychia",
    "vasculitis",
    "pyoderma",
    "ulcer",
    "burn",
    "erythema multiforme",
    "pemphig",  # pemphigus, bullous pemphigoid
)
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
SEE_IF_IT_PERSISTS = (
    "eczema",
    "dermatitis",
    "pompholyx",
    "tinea",  # fungal infections
    "candid",
    "versicolor",
    "onychomycosis",
    "acne",
    "rosacea",
    "psoriasis",
    "urticaria",
    "folliculitis",
    "lichen simplex",
    "prurigo",
    "herpes simplex",
    "wart",
    "molluscum",
)

# The API's name for "no specific condition recognised" (compared in lower case).
NONSPECIFIC_NAME = "nonspecific (normal)"


@dataclass(frozen=True, slots=True)
class AdviceRules:
    """The thresholds and condition lists the table's rows read; every one is a setting."""

    # Only the top matches count (top-3 accuracy is about 67% on everyday photos, top-1 about
    # 40%: the right answer is often not first), but a melanoma at rank 9 with 1% is noise.
    top_n: int = 5
    emergency_patterns: tuple[str, ...] = EMERGENCY_CONDITIONS
    emergency_min_score: float = 0.10
    treatment_patterns: tuple[str, ...] = NEEDS_TREATMENT
    treatment_min_score: float = 0.20
    cancer_patterns: tuple[str, ...] = MALIGNANT_OR_PREMALIGNANT
    cancer_min_score: float = 0.10
    # Scale undocumented; the 20 sample answers (benign-looking) carry 1 to 6. None: off.
    malignancy_output_threshold: int | None = 10
    persists_patterns: tuple[str, ...] = SEE_IF_IT_PERSISTS
    persists_min_score: float = 0.20
    # Chosen on the 20 sample answers, see docs/advice.md: below it the second match is within
    # a few points of the first.
    unsure_below: float = 0.30

    def patterns(self, kind: ConditionList) -> tuple[str, ...]:
        match kind:
            case ConditionList.EMERGENCY:
                return self.emergency_patterns
            case ConditionList.TREATMENT:
                return self.treatment_patterns
            case ConditionList.CANCER:
                return self.cancer_patterns
            case ConditionList.PERSISTS:
                return self.persists_patterns

    def min_score(self, kind: ConditionList) -> float:
        match kind:
            case ConditionList.EMERGENCY:
                return self.emergency_min_score
            case ConditionList.TREATMENT:
                return self.treatment_min_score
            case ConditionList.CANCER:
                return self.cancer_min_score
            case ConditionList.PERSISTS:
                return self.persists_min_score

    def with_file(self, path: Path) -> AdviceRules:
        """These rules with condition lists and thresholds replaced from a JSON file (the keys
        are the field names; an unknown key is an error, not silently ignored)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: the advice rules must be a JSON object")
        known = {f.name for f in fields(self)}
        changes: dict[str, object] = {}
        for key, value in data.items():
            name = _OLD_FILE_KEYS.get(key, key)
            if name not in known:
                raise ValueError(f"{path}: unknown advice rule {key!r}")
            if name.endswith("_patterns"):
                changes[name] = tuple(str(p).lower() for p in value)
            elif name in ("top_n", "malignancy_output_threshold"):
                changes[name] = None if value is None else int(value)
            else:
                changes[name] = float(value)
        return replace(self, **changes)  # type: ignore[arg-type]


# Keys of rule files written before the five-tier scale.
_OLD_FILE_KEYS = {
    "malignant_patterns": "cancer_patterns",
    "malignant_threshold": "cancer_min_score",
    "see_doctor_patterns": "treatment_patterns",
    "see_doctor_threshold": "treatment_min_score",
}

DEFAULT_RULES = AdviceRules()


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule may look at."""

    diagnosis: Diagnosis
    questionnaire: Questionnaire
    rules: AdviceRules

    @property
    def top(self) -> tuple[Condition, ...]:
        """The top matches that name a condition: "Nonspecific (normal)" takes no place among
        them, so it cannot push a melanoma out of the top five."""
        specific = (c for c in self.diagnosis.conditions if not is_nonspecific(c.name))
        return tuple(specific)[: self.rules.top_n]


def is_nonspecific(name: str) -> bool:
    return name.strip().lower() == NONSPECIFIC_NAME


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(p in lowered for p in patterns)


class Test(Protocol):
    """A row's rule: `fires` returns the API names that triggered it (empty when the rule is
    about the answers or the scores rather than names), or None when it does not fire."""

    def fires(self, facts: Facts) -> tuple[str, ...] | None: ...

    def describe(self, rules: AdviceRules) -> str: ...


@dataclass(frozen=True, slots=True)
class Named:
    """A top match named in a condition list, at or above that list's minimum score."""

    kind: ConditionList

    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        rules = facts.rules
        # The lists before this one in urgency claim a name first.
        earlier = tuple(ConditionList)[: tuple(ConditionList).index(self.kind)]
        names = tuple(
            c.name
            for c in facts.top
            if c.probability >= rules.min_score(self.kind)
            and _matches(c.name, rules.patterns(self.kind))
            and not any(_matches(c.name, rules.patterns(k)) for k in earlier)
        )
        return names or None

    def describe(self, rules: AdviceRules) -> str:
        return (
            f"one of the top {rules.top_n} AI matches, with an AI match score of at least "
            f"{rules.min_score(self.kind):.0%}, is in the {self.kind.value} list: "
            + ", ".join(rules.patterns(self.kind))
        )


@dataclass(frozen=True, slots=True)
class MalignancyOutputAtLeast:
    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        threshold = facts.rules.malignancy_output_threshold
        value = facts.diagnosis.malignancy_output
        return () if threshold is not None and value is not None and value >= threshold else None

    def describe(self, rules: AdviceRules) -> str:
        if rules.malignancy_output_threshold is None:
            return "the AI's malignancy output (off)"
        return f"the AI's malignancy output is {rules.malignancy_output_threshold} or more"


@dataclass(frozen=True, slots=True)
class Answered:
    """The person's answer to one question is one of `values`."""

    question: str  # a field of Questionnaire
    values: tuple[StrEnum, ...]
    words: str  # how the rule reads in the table

    def __post_init__(self) -> None:
        if self.question not in {f.name for f in fields(Questionnaire)}:
            raise ValueError(f"no question {self.question!r}")

    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        return () if getattr(facts.questionnaire, self.question) in self.values else None

    def describe(self, rules: AdviceRules) -> str:
        return self.words


@dataclass(frozen=True, slots=True)
class AllOf:
    tests: tuple[Test, ...]

    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        found: tuple[str, ...] = ()
        for test in self.tests:
            names = test.fires(facts)
            if names is None:
                return None
            found += names
        return found

    def describe(self, rules: AdviceRules) -> str:
        return " and ".join(t.describe(rules) for t in self.tests)


@dataclass(frozen=True, slots=True)
class AnyOf:
    tests: tuple[Test, ...]

    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        fired = [names for t in self.tests if (names := t.fires(facts)) is not None]
        return tuple(n for names in fired for n in names) if fired else None

    def describe(self, rules: AdviceRules) -> str:
        return "(" + " or ".join(t.describe(rules) for t in self.tests) + ")"


@dataclass(frozen=True, slots=True)
class TopScoreBelow:
    """The top match's AI match score is below `unsure_below`."""

    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        conditions = facts.diagnosis.conditions
        if conditions and conditions[0].probability < facts.rules.unsure_below:
            return ()
        return None

    def describe(self, rules: AdviceRules) -> str:
        return f"the top AI match score is below {rules.unsure_below:.0%}"


@dataclass(frozen=True, slots=True)
class NonspecificOnTop:
    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        conditions = facts.diagnosis.conditions
        return (conditions[0].name,) if conditions and is_nonspecific(conditions[0].name) else None

    def describe(self, rules: AdviceRules) -> str:
        return '"Nonspecific (normal)" is the top AI match'


@dataclass(frozen=True, slots=True)
class NothingNamed:
    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        return None if facts.diagnosis.conditions else ()

    def describe(self, rules: AdviceRules) -> str:
        return "the AI named no condition"


@dataclass(frozen=True, slots=True)
class NoneAbove:
    """Fires when no other row did; `advise` evaluates it last."""

    def fires(self, facts: Facts) -> tuple[str, ...] | None:
        return ()

    def describe(self, rules: AdviceRules) -> str:
        return "none of the rules above"


@dataclass(frozen=True, slots=True)
class Row:
    tier: AdviceTier  # the tier this row asks for at least
    rule: Test
    why: Why

    @property
    def time_frame(self) -> str:
        return self.tier.time_frame


_CHANGED = (RecentChange.BLEEDS, RecentChange.GREW_OR_CHANGED)
_SEVERE = (Severity.SEVERE,)

# THE RULE TABLE, most urgent first. The reasoning for each row is in docs/advice.md.
RULES: tuple[Row, ...] = (
    Row(AdviceTier.URGENT_CARE, Named(ConditionList.EMERGENCY), Why.EMERGENCY),
    Row(AdviceTier.WITHIN_DAYS, Named(ConditionList.TREATMENT), Why.NEEDS_TREATMENT),
    Row(AdviceTier.WITHIN_DAYS, Answered("pain", _SEVERE, "the pain is severe"), Why.SEVERE_PAIN),
    Row(
        AdviceTier.WITHIN_DAYS,
        AllOf(
            (
                Answered("onset", (Onset.UNDER_A_WEEK,), "it has been there under a week"),
                AnyOf(
                    (
                        Answered("itch", _SEVERE, "the itch is severe"),
                        Answered("pain", _SEVERE, "the pain is severe"),
                    )
                ),
            )
        ),
        Why.RECENT_SEVERE,
    ),
    Row(AdviceTier.WITHIN_2_WEEKS, Named(ConditionList.CANCER), Why.POSSIBLE_CANCER),
    Row(AdviceTier.WITHIN_2_WEEKS, MalignancyOutputAtLeast(), Why.MALIGNANCY_OUTPUT),
    Row(
        AdviceTier.WITHIN_2_WEEKS,
        Answered("recent_change", _CHANGED, "the person says it bleeds, or grew or changed"),
        Why.CHANGED,
    ),
    Row(AdviceTier.IF_NO_IMPROVEMENT, Named(ConditionList.PERSISTS), Why.SEE_IF_PERSISTS),
    Row(AdviceTier.IF_NO_IMPROVEMENT, TopScoreBelow(), Why.UNSURE),
    Row(AdviceTier.IF_NO_IMPROVEMENT, NonspecificOnTop(), Why.NONSPECIFIC),
    Row(AdviceTier.IF_NO_IMPROVEMENT, NothingNamed(), Why.NOTHING_NAMED),
    Row(AdviceTier.SELF_CARE, NoneAbove(), Why.NONE_ABOVE),
)

# The rows that say the AI recognised nothing with confidence.
_UNSURE = frozenset({Why.UNSURE, Why.NONSPECIFIC, Why.NOTHING_NAMED})


@dataclass(frozen=True, slots=True)
class Reason:
    why: Why
    tier: AdviceTier  # the tier this rule asks for at least
    conditions: tuple[str, ...] = ()  # API names (as the API spells them) that triggered it


@dataclass(frozen=True, slots=True)
class Advice:
    tier: AdviceTier
    # Every row that fired, most urgent first (table order among equals); reasons[0] set the
    # tier. Never empty from `advise`: when nothing else fires, NONE_ABOVE does.
    reasons: tuple[Reason, ...] = ()
    # The AI recognised nothing with confidence: the top AI match score is below
    # rules.unsure_below, "Nonspecific (normal)" is the top match, or no condition was named.
    unsure: bool = False
    # "Nonspecific (normal)" is among the top matches (it never lowers the tier).
    nonspecific: bool = False


def advise(diagnosis: Diagnosis, questionnaire: Questionnaire, rules: AdviceRules) -> Advice:
    facts = Facts(diagnosis, questionnaire, rules)
    reasons = [
        Reason(row.why, row.tier, names)
        for row in RULES
        if not isinstance(row.rule, NoneAbove) and (names := row.rule.fires(facts)) is not None
    ]
    if not reasons:
        last = RULES[-1]
        reasons.append(Reason(last.why, last.tier))
    # Stable: among rows of one tier, the table's order stays.
    reasons.sort(key=lambda r: -r.tier.urgency)
    nonspecific = any(is_nonspecific(c.name) for c in diagnosis.conditions[: rules.top_n + 1])
    return Advice(
        tier=reasons[0].tier,
        reasons=tuple(reasons),
        unsure=any(r.why in _UNSURE for r in reasons),
        nonspecific=nonspecific,
    )
