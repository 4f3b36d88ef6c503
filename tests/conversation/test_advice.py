"""The advice rule table: every rule is checked by the tier AND the reason it gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain.advice import (
    RULES,
    AdviceRules,
    AdviceTier,
    Reason,
    Why,
    advise,
)
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Onset, Questionnaire, RecentChange, Severity

RULE_SET = AdviceRules()
NO_ANSWERS = Questionnaire()


def diagnosis(*pairs: tuple[str, float], malignancy: int | None = None) -> Diagnosis:
    return Diagnosis(
        conditions=tuple(Condition(n, p) for n, p in pairs),
        malignancy_output=malignancy,
        meta_used=True,
        photos_analysed=1,
    )


# A confident, harmless-looking answer: no rule but the last one fires.
BENIGN = diagnosis(("Insect bite", 0.45), ("Melanocytic nevus", 0.25), ("Skin tag", 0.08))


def whys(advice: object) -> list[Why]:
    return [r.why for r in advice.reasons]  # type: ignore[attr-defined]


def test_benign_confident_answer_means_self_care_for_no_rule_at_all() -> None:
    advice = advise(BENIGN, NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.SELF_CARE
    assert advice.reasons == (Reason(Why.NONE_ABOVE, AdviceTier.SELF_CARE),)
    assert not advice.unsure and not advice.nonspecific


@pytest.mark.parametrize(
    "name", ["Stevens-Johnson syndrome", "Toxic epidermal necrolysis", "Eczema herpeticum"]
)
def test_emergency_condition_means_urgent_care_now(name: str) -> None:
    advice = advise(diagnosis(("Insect bite", 0.5), (name, 0.2)), NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.URGENT_CARE
    assert advice.reasons[0] == Reason(Why.EMERGENCY, AdviceTier.URGENT_CARE, (name,))


def test_eczema_herpeticum_counts_as_an_emergency_not_as_an_eczema() -> None:
    advice = advise(diagnosis(("Eczema herpeticum", 0.6)), NO_ANSWERS, RULE_SET)
    assert whys(advice) == [Why.EMERGENCY]


@pytest.mark.parametrize("name", ["Cellulitis", "Herpes zoster", "Impetigo", "Scabies"])
def test_infection_means_a_doctor_within_days(name: str) -> None:
    advice = advise(diagnosis((name, 0.35), ("Insect bite", 0.3)), NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert advice.reasons[0] == Reason(Why.NEEDS_TREATMENT, AdviceTier.WITHIN_DAYS, (name,))


def test_suspected_melanoma_means_a_dermatologist_within_2_weeks() -> None:
    d = diagnosis(("Melanocytic nevus", 0.4), ("Malignant melanoma", 0.23))
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == (
        Reason(Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS, ("Malignant melanoma",)),
    )


def test_infection_outranks_a_possible_cancer_as_the_sooner_tier() -> None:
    # The old rules put "see a dermatologist soon" (2 weeks) above "see a doctor" (days).
    d = diagnosis(("Cellulitis", 0.4), ("Basal cell carcinoma", 0.3))
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert whys(advice) == [Why.NEEDS_TREATMENT, Why.POSSIBLE_CANCER]


def test_malignant_name_below_its_score_or_outside_the_top_is_ignored() -> None:
    low = diagnosis(("Insect bite", 0.6), ("Basal cell carcinoma", 0.05))
    assert whys(advise(low, NO_ANSWERS, RULE_SET)) == [Why.NONE_ABOVE]
    ranked_out = diagnosis(*[(f"Benign {i}", 0.15) for i in range(5)], ("Melanoma", 0.12))
    assert Why.POSSIBLE_CANCER not in whys(advise(ranked_out, NO_ANSWERS, RULE_SET))


def test_high_malignancy_output_alone_means_within_2_weeks() -> None:
    advice = advise(diagnosis(("Insect bite", 0.6), malignancy=12), NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == (Reason(Why.MALIGNANCY_OUTPUT, AdviceTier.WITHIN_2_WEEKS),)
    low = advise(diagnosis(("Insect bite", 0.6), malignancy=4), NO_ANSWERS, RULE_SET)
    assert low.tier is AdviceTier.SELF_CARE


@pytest.mark.parametrize("change", [RecentChange.BLEEDS, RecentChange.GREW_OR_CHANGED])
def test_a_change_the_person_saw_means_at_least_within_2_weeks(change: RecentChange) -> None:
    advice = advise(BENIGN, Questionnaire(recent_change=change), RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == (Reason(Why.CHANGED, AdviceTier.WITHIN_2_WEEKS),)


def test_no_change_or_no_answer_adds_nothing() -> None:
    for answers in (Questionnaire(recent_change=RecentChange.NO_CHANGE), NO_ANSWERS):
        assert advise(BENIGN, answers, RULE_SET).tier is AdviceTier.SELF_CARE


def test_a_change_does_not_lower_an_infection() -> None:
    answers = Questionnaire(recent_change=RecentChange.BLEEDS)
    advice = advise(diagnosis(("Cellulitis", 0.5)), answers, RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert whys(advice) == [Why.NEEDS_TREATMENT, Why.CHANGED]


def test_severe_pain_means_at_least_within_days() -> None:
    advice = advise(BENIGN, Questionnaire(pain=Severity.SEVERE), RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert advice.reasons == (Reason(Why.SEVERE_PAIN, AdviceTier.WITHIN_DAYS),)


def test_severe_itch_under_a_week_means_within_days_but_not_when_older() -> None:
    recent = Questionnaire(itch=Severity.SEVERE, onset=Onset.UNDER_A_WEEK)
    advice = advise(BENIGN, recent, RULE_SET)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert advice.reasons == (Reason(Why.RECENT_SEVERE, AdviceTier.WITHIN_DAYS),)
    older = Questionnaire(itch=Severity.SEVERE, onset=Onset.UNDER_A_MONTH)
    assert advise(BENIGN, older, RULE_SET).tier is AdviceTier.SELF_CARE


def test_condition_treated_at_home_means_a_doctor_if_no_improvement() -> None:
    d = diagnosis(("Atopic dermatitis", 0.5), ("Insect bite", 0.2))
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.tier is AdviceTier.IF_NO_IMPROVEMENT
    assert advice.reasons == (
        Reason(Why.SEE_IF_PERSISTS, AdviceTier.IF_NO_IMPROVEMENT, ("Atopic dermatitis",)),
    )


def test_low_top_score_is_unsure_and_never_self_care() -> None:
    d = diagnosis(("Insect bite", 0.28), ("Skin tag", 0.27), ("Melanocytic nevus", 0.12))
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.unsure
    assert advice.tier is AdviceTier.IF_NO_IMPROVEMENT
    assert advice.reasons == (Reason(Why.UNSURE, AdviceTier.IF_NO_IMPROVEMENT),)


def test_unsure_threshold_is_the_setting() -> None:
    d = diagnosis(("Insect bite", 0.28), ("Skin tag", 0.27))
    rules = AdviceRules(unsure_below=0.25)
    advice = advise(d, NO_ANSWERS, rules)
    assert not advice.unsure and advice.tier is AdviceTier.SELF_CARE


def test_unsure_does_not_lower_a_more_urgent_rule() -> None:
    d = diagnosis(("Melanoma", 0.2), ("Melanocytic nevus", 0.19))
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.unsure
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert whys(advice) == [Why.POSSIBLE_CANCER, Why.UNSURE]


def test_nonspecific_on_top_is_treated_as_unsure() -> None:
    d = diagnosis(("Nonspecific (normal)", 0.7), ("Insect bite", 0.1))
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.unsure and advice.nonspecific
    assert advice.tier is AdviceTier.IF_NO_IMPROVEMENT
    assert advice.reasons == (
        Reason(Why.NONSPECIFIC, AdviceTier.IF_NO_IMPROVEMENT, ("Nonspecific (normal)",)),
    )


def test_nonspecific_takes_no_place_among_the_top_matches() -> None:
    # Four harmless names and "Nonspecific (normal)" before a melanoma: the melanoma is still
    # among the top five conditions (the old rules dropped it as sixth).
    d = diagnosis(
        ("Insect bite", 0.35),
        ("Nonspecific (normal)", 0.14),
        *[(f"Benign {i}", 0.1) for i in range(3)],
        ("Melanoma", 0.11),
    )
    advice = advise(d, NO_ANSWERS, RULE_SET)
    assert advice.nonspecific
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons[0] == Reason(
        Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS, ("Melanoma",)
    )


def test_no_condition_named_never_reassures() -> None:
    advice = advise(diagnosis(malignancy=2), NO_ANSWERS, RULE_SET)
    assert advice.unsure
    assert advice.tier is AdviceTier.IF_NO_IMPROVEMENT
    assert advice.reasons == (Reason(Why.NOTHING_NAMED, AdviceTier.IF_NO_IMPROVEMENT),)
    answers = Questionnaire(pain=Severity.SEVERE)
    assert advise(diagnosis(), answers, RULE_SET).tier is AdviceTier.WITHIN_DAYS


def test_every_why_has_one_row_and_the_table_runs_most_urgent_first() -> None:
    assert sorted(row.why for row in RULES) == sorted(Why)
    urgencies = [row.tier.urgency for row in RULES]
    assert urgencies == sorted(urgencies, reverse=True)


def test_rules_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps(
            {"cancer_patterns": ["insect"], "malignancy_output_threshold": None, "unsure_below": 0}
        ),
        encoding="utf-8",
    )
    rules = RULE_SET.with_file(path)
    advice = advise(diagnosis(("Insect bite", 0.2)), NO_ANSWERS, rules)
    assert advice.reasons == (
        Reason(Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS, ("Insect bite",)),
    )
    melanoma = diagnosis(("Melanoma", 0.6), malignancy=99)
    assert advise(melanoma, NO_ANSWERS, rules).tier is AdviceTier.SELF_CARE


def test_rule_files_of_the_three_tier_rules_still_load(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps({"see_doctor_patterns": ["insect"], "see_doctor_threshold": 0.5}),
        encoding="utf-8",
    )
    rules = RULE_SET.with_file(path)
    advice = advise(diagnosis(("Insect bite", 0.6)), NO_ANSWERS, rules)
    assert advice.reasons[0] == Reason(
        Why.NEEDS_TREATMENT, AdviceTier.WITHIN_DAYS, ("Insect bite",)
    )


def test_an_unknown_key_in_a_rules_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"unsure_bellow": 0.2}), encoding="utf-8")
    with pytest.raises(ValueError, match="unsure_bellow"):
        RULE_SET.with_file(path)
