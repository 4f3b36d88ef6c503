"""The clinic's decisions on the advice's scale: buttons, texts, and cards posted before it."""

from __future__ import annotations

import re

import pytest

from bot.db.models import TriageDecisionKind
from bot.domain.advice import AdviceTier
from bot.i18n import speaking
from bot.i18n.texts import MESSAGES, text
from bot.views.clinic_buttons import CODE_OF, TriageButton, decode


def test_the_buttons_run_most_urgent_first_then_better_photos() -> None:
    tiers = [kind.tier for kind in TriageDecisionKind]
    assert tiers == [*AdviceTier, None]


@pytest.mark.parametrize(("code", "kind"), [("u", "within_2_weeks"), ("r", "if_no_improvement")])
def test_a_press_on_a_card_posted_before_the_scale_decides_as_migration_0011_moved_it(
    code: str, kind: str
) -> None:
    # "u" was "Urgent: within 2 weeks", "r" "Routine appointment".
    button = decode(f"t|{code}|12|1|0")
    assert button is not None and button.decision is TriageDecisionKind(kind)


def test_every_decision_has_its_own_button_code() -> None:
    assert len(set(CODE_OF.values())) == len(TriageDecisionKind)
    for kind, code in CODE_OF.items():
        assert decode(TriageButton(code, 1, 1, 0).encode()).decision is kind  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["en", "ko", "es"])
@pytest.mark.parametrize("kind", [k for k in TriageDecisionKind if k.tier is not None])
def test_each_decision_tells_the_person_what_to_do_and_by_when(
    kind: TriageDecisionKind, language: str
) -> None:
    with speaking(language):
        told = text(f"triage_to_person_{kind.value}", case="ab12cd34")
    assert "ab12cd34" in told
    english = MESSAGES[f"triage_to_person_{kind.value}"]
    # A time frame in every text but self-care's, which needs no appointment at all.
    if kind is not TriageDecisionKind.SELF_CARE:
        assert re.search(r"now|today|days|weeks", english), english
    # The catalogs translate it (the text differs from the English source).
    if language != "en":
        assert told != english.format(case="ab12cd34")
