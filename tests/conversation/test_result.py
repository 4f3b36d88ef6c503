from __future__ import annotations

from bot.advice import Advice, AdviceTier
from bot.conversation.result import bar, percent, render_result
from bot.conversation.texts import MESSAGES
from bot.modelderm.diagnosis import Condition, Diagnosis

PUBLIC_ID = "3f2a9c1e-0000-4000-8000-000000000000"


def make(conditions: list[tuple[str, float]], malignancy: int | None = 4) -> Diagnosis:
    return Diagnosis(
        conditions=tuple(Condition(n, p) for n, p in conditions),
        malignancy_output=malignancy,
        meta_used=True,
        photos_analysed=2,
    )


def test_result_lists_top_five_with_percentages_bars_and_disclaimer() -> None:
    pairs = [(f"Condition {i}", p) for i, p in enumerate([0.33, 0.19, 0.09, 0.07, 0.05, 0.03])]
    body = render_result(make(pairs), Advice(AdviceTier.SELF_CARE), PUBLIC_ID)
    assert "1. Condition 0 — 33%" in body
    assert "5. Condition 4 — 5%" in body
    assert "Condition 5" not in body
    assert "████░░░░░░░░" in body  # 33% of 12 cells
    assert MESSAGES["disclaimer"] in body
    assert "not certified by the FDA or CE" in body
    assert "Malignancy output of the AI: 4" in body
    assert "3f2a9c1e" in body


def test_disclaimer_is_there_even_without_conditions() -> None:
    body = render_result(make([], malignancy=None), Advice(AdviceTier.SELF_CARE), PUBLIC_ID)
    assert MESSAGES["disclaimer"] in body
    assert "Malignancy" not in body


def test_names_are_html_escaped() -> None:
    body = render_result(
        make([("Bad <b>name</b> & co", 0.5)]), Advice(AdviceTier.SEE_DOCTOR), PUBLIC_ID
    )
    assert "Bad &lt;b&gt;name&lt;/b&gt; &amp; co" in body


def test_small_probabilities_never_read_as_zero() -> None:
    assert percent(0.004) == "<1%"
    assert percent(0.0) == "0%"
    assert percent(0.2728) == "27%"
    assert bar(1.5) == "█" * 12
    assert bar(-1) == "░" * 12
