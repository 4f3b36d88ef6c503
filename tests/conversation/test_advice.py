from __future__ import annotations

import json
from pathlib import Path

from bot.domain.advice import AdviceRules, AdviceTier, Reason, Why, advise
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire


def diagnosis(*pairs: tuple[str, float], malignancy: int | None = None) -> Diagnosis:
    return Diagnosis(
        conditions=tuple(Condition(n, p) for n, p in pairs),
        malignancy_output=malignancy,
        meta_used=True,
        photos_analysed=1,
    )


RULES = AdviceRules()
ANSWERS = Questionnaire()


def test_benign_top_results_mean_watch_it() -> None:
    d = diagnosis(("Insect bite", 0.27), ("Melanocytic nevus", 0.25), ("Xerotic eczema", 0.08))
    assert advise(d, ANSWERS, RULES).tier is AdviceTier.SELF_CARE


def test_suspected_melanoma_above_threshold_means_dermatologist_soon() -> None:
    d = diagnosis(("Melanocytic nevus", 0.4), ("Malignant melanoma", 0.23))
    advice = advise(d, ANSWERS, RULES)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == (
        Reason(Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS, ("Malignant melanoma",)),
    )


def test_premalignant_condition_counts_too() -> None:
    d = diagnosis(("Xerotic eczema", 0.5), ("Actinic keratosis", 0.15))
    assert advise(d, ANSWERS, RULES).tier is AdviceTier.WITHIN_2_WEEKS


def test_malignant_name_below_threshold_or_outside_top_is_ignored() -> None:
    low = diagnosis(("Insect bite", 0.6), ("Basal cell carcinoma", 0.05))
    assert advise(low, ANSWERS, RULES).tier is AdviceTier.SELF_CARE
    ranked_out = diagnosis(*[(f"Benign {i}", 0.15) for i in range(5)], ("Melanoma", 0.12))
    sure = AdviceRules(unsure_below=0.0)
    assert advise(ranked_out, ANSWERS, sure).tier is AdviceTier.SELF_CARE


def test_a_low_top_score_is_unsure_and_never_self_care_only() -> None:
    advice = advise(diagnosis(("Insect bite", 0.12), ("Acne", 0.1)), ANSWERS, RULES)
    assert advice.unsure
    assert advice.tier is AdviceTier.IF_NO_IMPROVEMENT
    assert advice.reasons == (Reason(Why.UNSURE, AdviceTier.IF_NO_IMPROVEMENT),)


def test_nonspecific_among_the_top_matches_is_flagged_and_never_lowers_the_tier() -> None:
    d = diagnosis(("Nonspecific (normal)", 0.4), ("Cellulitis", 0.3))
    advice = advise(d, ANSWERS, RULES)
    assert advice.nonspecific
    assert advice.tier is AdviceTier.WITHIN_DAYS


def test_high_malignancy_output_alone_means_dermatologist_soon() -> None:
    d = diagnosis(("Insect bite", 0.6), malignancy=12)
    advice = advise(d, ANSWERS, RULES)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == (Reason(Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS),)
    assert advise(diagnosis(("Insect bite", 0.6), malignancy=4), ANSWERS, RULES).tier is (
        AdviceTier.SELF_CARE
    )


def test_no_condition_at_all_never_reassures() -> None:
    advice = advise(diagnosis(), ANSWERS, RULES)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert advice.reasons[0] == Reason(Why.NOTHING_NAMED, AdviceTier.WITHIN_DAYS)
    assert advise(diagnosis(malignancy=2), ANSWERS, RULES).tier is AdviceTier.WITHIN_DAYS


def test_infection_means_see_a_doctor() -> None:
    d = diagnosis(("Cellulitis", 0.35), ("Insect bite", 0.3))
    assert advise(d, ANSWERS, RULES).tier is AdviceTier.WITHIN_DAYS


def test_rules_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps({"malignant_patterns": ["insect"], "malignancy_output_threshold": None}),
        encoding="utf-8",
    )
    rules = RULES.with_file(path)
    assert advise(diagnosis(("Insect bite", 0.6)), ANSWERS, rules).tier is (
        AdviceTier.WITHIN_2_WEEKS
    )
    assert (
        advise(diagnosis(("Nevus", 0.6), malignancy=99), ANSWERS, rules).tier
        is AdviceTier.SELF_CARE
    )
