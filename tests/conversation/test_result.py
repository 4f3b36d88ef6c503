from __future__ import annotations

import pytest

from bot.domain.advice import Advice, AdviceTier
from bot.domain.diagnosis import Condition, Diagnosis
from bot.i18n import speaking
from bot.i18n.limits import LABEL_MAX_CHARS, visible_length
from bot.i18n.texts import MESSAGES
from bot.views import result as result_module
from bot.views.result import bar, percent, render_result

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
    assert "1. “Condition 0” — 33%" in body
    assert "5. “Condition 4” — 5%" in body
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
        make([("Bad <b>name</b> & co", 0.5)]), Advice(AdviceTier.WITHIN_DAYS), PUBLIC_ID
    )
    assert "Bad &lt;b&gt;name&lt;/b&gt; &amp; co" in body


def test_small_probabilities_never_read_as_zero() -> None:
    assert percent(0.004) == "<1%"
    assert percent(0.0) == "0%"
    assert percent(0.2728) == "27%"
    assert bar(1.5) == "█" * 12
    assert bar(-1) == "░" * 12


def test_a_name_the_bot_knows_is_its_own_and_one_it_does_not_is_the_ais_quoted() -> None:
    body = render_result(
        make([("Insect bite", 0.4), ("You are healthy", 0.3)]),
        Advice(AdviceTier.SELF_CARE),
        PUBLIC_ID,
    )
    assert "1. Insect bite — 40%" in body  # no checked English article: unlinked
    assert "2. “You are healthy” — 30%" in body
    assert MESSAGES["result_ai_labels"] in body
    known_only = render_result(
        make([("Insect bite", 0.4)]), Advice(AdviceTier.SELF_CARE), PUBLIC_ID
    )
    assert MESSAGES["result_ai_labels"] not in known_only


def test_quotation_marks_follow_the_language() -> None:
    diagnosis = make([("Some new condition", 0.4)])
    with speaking("es"):
        assert "«Some new condition»" in render_result(
            diagnosis, Advice(AdviceTier.SELF_CARE), PUBLIC_ID
        )
    with speaking("ko"):
        assert "“Some new condition”" in render_result(
            diagnosis, Advice(AdviceTier.SELF_CARE), PUBLIC_ID
        )


def test_long_names_are_cut_short_with_an_ellipsis() -> None:
    name = "Extraordinarily " * 60
    body = render_result(make([(name, 0.4)]), Advice(AdviceTier.SELF_CARE), PUBLIC_ID)
    line = next(line for line in body.splitlines() if line.startswith("1. "))
    shown = line.removeprefix("1. “").split("”")[0]
    assert shown.endswith("…")
    assert len(shown) <= LABEL_MAX_CHARS
    assert shown.startswith("Extraordinarily Extraordinarily")


def test_when_too_long_the_lowest_ranked_lines_go_first(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = [(f"Condition number {i} " + "x" * 40, 0.15 - i / 100) for i in range(10)]
    diagnosis = make(pairs)
    full = render_result(diagnosis, Advice(AdviceTier.WITHIN_DAYS), PUBLIC_ID, top=10)
    limit = visible_length(full) - 100
    monkeypatch.setattr(result_module, "RESULT_MAX_UTF16", limit)
    cut = render_result(diagnosis, Advice(AdviceTier.WITHIN_DAYS), PUBLIC_ID, top=10)
    assert visible_length(cut) <= limit
    assert "1. “Condition number 0" in cut
    assert "10. " not in cut
    assert MESSAGES["disclaimer"] in cut
