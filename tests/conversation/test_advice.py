from __future__ import annotations

import json
from pathlib import Path

from bot.domain.advice import AdviceRules, AdviceTier, advise
from bot.domain.diagnosis import Condition, Diagnosis


def diagnosis(*pairs: tuple[str, float], malignancy: int | None = None) -> Diagnosis:
    return Diagnosis(
        conditions=tuple(Condition(n, p) for n, p in pairs),
        malignancy_output=malignancy,
        meta_used=True,
        photos_analysed=1,
    )


RULES = AdviceRules()


def test_benign_top_results_mean_watch_it() -> None:
    d = diagnosis(("Insect bite", 0.27), ("Melanocytic nevus", 0.25), ("Xerotic eczema", 0.08))
    assert advise(d, RULES).tier is AdviceTier.SELF_CARE


def test_suspected_melanoma_above_threshold_means_dermatologist_soon() -> None:
    d = diagnosis(("Melanocytic nevus", 0.4), ("Malignant melanoma", 0.23))
    advice = advise(d, RULES)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == ("Malignant melanoma 23%",)


def test_premalignant_condition_counts_too() -> None:
    d = diagnosis(("Xerotic eczema", 0.5), ("Actinic keratosis", 0.15))
    assert advise(d, RULES).tier is AdviceTier.WITHIN_2_WEEKS


def test_malignant_name_below_threshold_or_outside_top_is_ignored() -> None:
    low = diagnosis(("Insect bite", 0.6), ("Basal cell carcinoma", 0.05))
    assert advise(low, RULES).tier is AdviceTier.SELF_CARE
    ranked_out = diagnosis(*[(f"Benign {i}", 0.15) for i in range(5)], ("Melanoma", 0.12))
    assert advise(ranked_out, RULES).tier is AdviceTier.SELF_CARE


def test_high_malignancy_output_alone_means_dermatologist_soon() -> None:
    d = diagnosis(("Insect bite", 0.6), malignancy=12)
    advice = advise(d, RULES)
    assert advice.tier is AdviceTier.WITHIN_2_WEEKS
    assert advice.reasons == ("malignancy output 12",)
    assert advise(diagnosis(("Insect bite", 0.6), malignancy=4), RULES).tier is (
        AdviceTier.SELF_CARE
    )


def test_no_condition_at_all_never_reassures() -> None:
    advice = advise(diagnosis(), RULES)
    assert advice.tier is AdviceTier.WITHIN_DAYS
    assert advice.reasons == ("no condition named",)
    assert advise(diagnosis(malignancy=2), RULES).tier is AdviceTier.WITHIN_DAYS


def test_infection_means_see_a_doctor() -> None:
    d = diagnosis(("Cellulitis", 0.35), ("Insect bite", 0.3))
    assert advise(d, RULES).tier is AdviceTier.WITHIN_DAYS


def test_rules_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps({"malignant_patterns": ["insect"], "malignancy_output_threshold": None}),
        encoding="utf-8",
    )
    rules = RULES.with_file(path)
    assert advise(diagnosis(("Insect bite", 0.6)), rules).tier is (AdviceTier.WITHIN_2_WEEKS)
    assert advise(diagnosis(("Nevus", 0.6), malignancy=99), rules).tier is AdviceTier.SELF_CARE
