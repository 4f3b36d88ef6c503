"""The result text: what to do first, how far to trust it, the matches, red flags, disclaimer.

Advice values are built here directly (every tier, every reason), not by today's rules, so the
text is tested for whatever the advice rules decide.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest

from bot.domain.advice import Advice, AdviceTier, Reason, Why
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.domain.result import CaseResult
from bot.i18n import SUPPORTED, speaking
from bot.i18n.limits import LABEL_MAX_CHARS, visible_length
from bot.i18n.texts import MESSAGES, text, text_in
from bot.views import result as result_module
from bot.views.result import TIER_ICONS, percent, render_result

PUBLIC_ID = uuid.UUID("3f2a9c1e-0000-4000-8000-000000000000")
CHECKED_AT = dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC)
UTC = ZoneInfo("UTC")
HIGH_RISK = (("Melanoma", 0.41), ("Melanocytic nevus", 0.19), ("Basal cell carcinoma", 0.09))
CANCER = Reason(Why.POSSIBLE_CANCER, AdviceTier.WITHIN_2_WEEKS, ("Melanoma",))
# For each tier, a reason that asks for it (as a rule of the advice table would).
REASON_OF_TIER = {
    AdviceTier.URGENT_CARE: Reason(Why.EMERGENCY, AdviceTier.URGENT_CARE, ("Stevens-Johnson",)),
    AdviceTier.WITHIN_DAYS: Reason(Why.NEEDS_TREATMENT, AdviceTier.WITHIN_DAYS, ("Cellulitis",)),
    AdviceTier.WITHIN_2_WEEKS: CANCER,
    AdviceTier.IF_NO_IMPROVEMENT: Reason(Why.UNSURE, AdviceTier.IF_NO_IMPROVEMENT),
}


def make(
    conditions: tuple[tuple[str, float], ...] = HIGH_RISK,
    *,
    malignancy: int | None = 71,
    photos: int | None = 2,
) -> Diagnosis:
    return Diagnosis(
        conditions=tuple(Condition(n, p) for n, p in conditions),
        malignancy_output=malignancy,
        meta_used=True,
        photos_analysed=photos,
    )


def result_of(
    diagnosis: Diagnosis | None = None,
    advice: Advice | None = None,
    *,
    questionnaire: Questionnaire | None = None,
    patient_ref: str | None = None,
    checked_at: dt.datetime = CHECKED_AT,
) -> CaseResult:
    return CaseResult(
        public_id=PUBLIC_ID,
        chat_id=1,
        language=None,
        diagnosis=make() if diagnosis is None else diagnosis,
        advice=Advice(AdviceTier.WITHIN_2_WEEKS, (CANCER,)) if advice is None else advice,
        clinic_queued=False,
        questionnaire=questionnaire or Questionnaire(birth_year=1984, skin_type=3),
        patient_ref=patient_ref,
        checked_at=checked_at,
    )


def render(result: CaseResult, *, top: int = 5, after_headline: tuple[str, ...] = ()) -> str:
    return render_result(result, zone=UTC, top=top, after_headline=after_headline)


def plain(markup: str) -> str:
    return re.sub("<[^>]+>", "", markup)


def lines_of(body: str) -> list[str]:
    return [line for line in plain(body).splitlines() if line]


def test_the_headline_comes_first_with_what_to_do_how_soon_and_why() -> None:
    body = render(result_of())
    lines = lines_of(body)
    assert lines[0] == "AI estimate (check 3f2a9c1e) · 1 Dec 2026"
    assert lines[1] == (
        "🟨 See a dermatologist (skin doctor) within 2 weeks: the AI found signs that need a "
        "doctor's look (possible skin cancer or pre-cancer)."
    )
    assert lines[2] == plain(MESSAGES["advice_next_within_2_weeks"])
    # The matches only after what to do.
    text_only = plain(body)
    assert text_only.index("within 2 weeks") < text_only.index("1. Melanoma skin cancer — 41%")


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize("tier", list(AdviceTier))
def test_every_tier_has_its_headline_icon_and_next_step_in_every_language(
    tier: AdviceTier, language: str
) -> None:
    reason = REASON_OF_TIER.get(tier)
    advice = Advice(tier, () if reason is None else (reason,), unsure=reason is not None)
    with speaking(language):
        lines = lines_of(render(result_of(advice=advice)))
        action = plain(text(f"advice_{tier.value}"))
        assert lines[1].startswith(f"{TIER_ICONS[tier]} {action}")
        assert lines[2] == plain(text(f"advice_next_{tier.value}"))
        why = f"advice_why_{reason.why.value}" if reason else "advice_why_none_above"
        assert plain(text(why)) in lines[1]


def test_the_icons_follow_the_urgency_of_the_tiers() -> None:
    by_urgency = sorted(AdviceTier, key=lambda tier: -tier.urgency)
    assert [TIER_ICONS[tier] for tier in by_urgency] == ["🟥", "🟧", "🟨", "🟦", "🟩"]


def test_every_reason_has_its_own_wording_in_every_language() -> None:
    wordings = set()
    for why in Why:
        wording = MESSAGES.get(f"advice_why_{why.value}")
        assert wording, f"no wording for {why}"
        wordings.add(wording)
    assert len(wordings) == len(Why)
    for language in SUPPORTED:
        for why in Why:
            assert text_in(language, f"advice_why_{why.value}")


@pytest.mark.parametrize(
    ("why", "said"),
    [
        (Why.SEVERE_PAIN, "you said it hurts badly"),
        (Why.RECENT_SEVERE, "it started less than a week ago and itches or hurts badly"),
        (Why.CHANGED, "you said it has changed lately"),
    ],
)
def test_further_reasons_are_named_briefly_after_the_headline(why: Why, said: str) -> None:
    advice = Advice(
        AdviceTier.WITHIN_2_WEEKS,
        (CANCER, Reason(why, AdviceTier.WITHIN_DAYS), Reason(Why.UNSURE, AdviceTier.SELF_CARE)),
        unsure=True,
    )
    lines = lines_of(render(result_of(advice=advice)))
    assert lines[2] == f"Also: {said}."
    # The AI's doubt has a line of its own, not an "Also".
    assert "unsure" not in lines[2]
    assert any(line.startswith("• The AI is unsure") for line in lines)


def test_a_reason_the_text_has_no_wording_for_leaves_the_headline_standing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(MESSAGES, "advice_why_possible_cancer")
    lines = lines_of(render(result_of()))
    assert lines[1] == "🟨 See a dermatologist (skin doctor) within 2 weeks."


def test_the_unsure_line_is_not_repeated_when_it_is_the_headlines_reason() -> None:
    advice = Advice(
        AdviceTier.IF_NO_IMPROVEMENT,
        (Reason(Why.UNSURE, AdviceTier.IF_NO_IMPROVEMENT),),
        unsure=True,
    )
    body = plain(render(result_of(make((("Insect bite", 0.12),)), advice)))
    assert "the AI is unsure what this is (its best match score is low)" in body
    assert plain(MESSAGES["result_unsure"]) not in body


def test_nonspecific_never_reads_as_healthy_in_any_language() -> None:
    diagnosis = make((("Insect bite", 0.3), ("Nonspecific (normal)", 0.2)))
    advice = Advice(AdviceTier.SELF_CARE, nonspecific=True)
    for language in SUPPORTED:
        with speaking(language):
            body = render(result_of(diagnosis, advice))
            assert text("result_nonspecific") in body
    english = plain(render(result_of(diagnosis, advice)))
    assert "this does not mean the skin is healthy" in english
    assert "No specific condition recognised" in english
    assert plain(MESSAGES["result_nonspecific"]) not in plain(
        render(result_of(diagnosis, Advice(AdviceTier.SELF_CARE)))
    )


@pytest.mark.parametrize(
    ("questionnaire", "photos", "caveat"),
    [
        (Questionnaire(birth_year=1984, skin_type=5), 2, "result_caveat_dark_skin"),
        (Questionnaire(birth_year=1984, skin_type=6), 2, "result_caveat_dark_skin"),
        (Questionnaire(birth_year=2012, skin_type=3), 2, "result_caveat_minor"),
        # Born in 2008, 17 or 18 in 2026: may be under 18.
        (Questionnaire(birth_year=2008), 2, "result_caveat_minor"),
        (Questionnaire(birth_year=1984, skin_type=3), 1, "result_caveat_one_photo"),
    ],
)
def test_a_caveat_is_said_where_it_applies(
    questionnaire: Questionnaire, photos: int, caveat: str
) -> None:
    body = render(result_of(make(photos=photos), questionnaire=questionnaire))
    assert f"• {MESSAGES[caveat]}" in body


def test_no_caveat_where_none_applies() -> None:
    for questionnaire in (Questionnaire(birth_year=1984, skin_type=4), Questionnaire()):
        body = render(result_of(make(photos=3), questionnaire=questionnaire))
        assert "•" not in body
    # Born in 2007: at least 18 all of 2026.
    adult = render(result_of(questionnaire=Questionnaire(birth_year=2007)))
    assert MESSAGES["result_caveat_minor"] not in adult


def test_the_malignancy_output_and_the_photo_count_are_not_shown() -> None:
    body = plain(render(result_of(make(malignancy=71, photos=3))))
    assert "71" not in body
    assert "alignan" not in body
    assert "Photos" not in body and "3 photos" not in body


def test_matches_come_with_an_ai_match_score_never_a_chance() -> None:
    body = render(result_of())
    assert "<b>The AI's closest matches</b> (AI match score):" in body
    assert "1. Melanoma skin cancer — 41%" in plain(body)
    for word in ("chance", "probability", "likely"):
        label_lines = [line for line in plain(body).splitlines() if word in line.lower()]
        # Only the note that says what a score is not.
        assert label_lines in ([], [plain(MESSAGES["result_score_note"])]), label_lines


def test_plain_name_first_medical_name_after_and_a_link_only_where_there_is_a_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain_names = {"Melanocytic nevus": "Mole", "Xerotic eczema": "Dry-skin eczema"}
    medical = {"Melanocytic nevus": "melanocytic nevus", "Xerotic eczema": "xerotic eczema"}
    urls = {"Melanocytic nevus": "https://medlineplus.gov/moles.html"}
    monkeypatch.setattr(result_module, "plain_name", lambda n, _lang: plain_names.get(n))
    monkeypatch.setattr(result_module, "medical_name", lambda n, _lang: medical.get(n))
    monkeypatch.setattr(result_module, "info_url", lambda n, _lang: urls.get(n))
    diagnosis = make((("Melanocytic nevus", 0.4), ("Xerotic eczema", 0.2), ("You are fine", 0.1)))
    body = render(result_of(diagnosis, Advice(AdviceTier.SELF_CARE)))
    assert (
        '1. <a href="https://medlineplus.gov/moles.html">Mole (melanocytic nevus)</a> — 40%' in body
    )
    assert "2. Dry-skin eczema (xerotic eczema) — 20%" in body
    # A name the bot has no entry for is the AI's own, quoted, unlinked, and said to be so.
    assert "3. “You are fine” — 10%" in body
    assert MESSAGES["result_ai_labels"] in body
    assert MESSAGES["result_links"] in body
    unlinked = render(result_of(make((("Xerotic eczema", 0.2),)), Advice(AdviceTier.SELF_CARE)))
    assert "<a " not in unlinked and MESSAGES["result_links"] not in unlinked
    assert MESSAGES["result_ai_labels"] not in unlinked


@pytest.mark.parametrize("language", SUPPORTED)
def test_red_flags_and_one_disclaimer_end_every_result(language: str) -> None:
    for diagnosis in (make(), make(())):
        with speaking(language):
            body = render(result_of(diagnosis))
            assert body.endswith(f"{text('redflags')}\n{text('disclaimer')}")
            assert body.count(text("disclaimer")) == 1
    english = plain(render(result_of()))
    assert "not certified by the FDA or CE" in english
    assert english.count("FDA") == 1


def test_nothing_named_is_said_once() -> None:
    advice = Advice(AdviceTier.WITHIN_DAYS, (Reason(Why.NOTHING_NAMED, AdviceTier.WITHIN_DAYS),))
    body = plain(render(result_of(make(()), advice)))
    assert body.count("named no condition") + body.count("did not name any condition") == 1
    # Without that reason (other rules), the empty list still says so.
    other = plain(render(result_of(make(()), Advice(AdviceTier.WITHIN_DAYS))))
    assert plain(MESSAGES["result_nothing"]) in other


def test_the_header_dates_the_check_in_the_deployments_time_zone_and_language() -> None:
    late_evening = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
    result = result_of(checked_at=late_evening)
    assert lines_of(render(result))[0].endswith("· 1 Dec 2026")
    seoul = render_result(result, zone=ZoneInfo("Asia/Seoul"))
    assert lines_of(seoul)[0] == "AI estimate (check 3f2a9c1e) · 2 Dec 2026"
    with speaking("ko"):
        assert "2026. 12. 2." in lines_of(render_result(result, zone=ZoneInfo("Asia/Seoul")))[0]
    with speaking("es"):
        assert lines_of(render(result))[0].endswith("· 1 dic 2026")


def test_the_header_names_the_field_workers_patient_code_escaped() -> None:
    body = render(result_of(patient_ref="PT-7 <b>&"))
    header = body.splitlines()[0]
    assert header == "<b>AI estimate</b> (check 3f2a9c1e) · 1 Dec 2026 · PT-7 &lt;b&gt;&amp;"
    assert "PT-7" not in render(result_of(patient_ref=None)).splitlines()[0]


def test_lines_given_for_after_the_headline_come_right_after_it() -> None:
    body = render(result_of(), after_headline=("📈 Compared with your check of 3 Nov: larger.",))
    lines = lines_of(body)
    assert lines[3] == "📈 Compared with your check of 3 Nov: larger."
    assert body.index("Compared") < body.index("closest matches")


def test_names_are_html_escaped() -> None:
    body = render(result_of(make((("Bad <b>name</b> & co", 0.5),))))
    assert "Bad &lt;b&gt;name&lt;/b&gt; &amp; co" in body


def test_small_scores_never_read_as_zero() -> None:
    assert percent(0.004) == "<1%"
    assert percent(0.0) == "0%"
    assert percent(0.2728) == "27%"


def test_quotation_marks_follow_the_language() -> None:
    diagnosis = make((("Some new condition", 0.4),))
    with speaking("es"):
        assert "«Some new condition»" in render(result_of(diagnosis))
    with speaking("ko"):
        assert "“Some new condition”" in render(result_of(diagnosis))


def test_long_names_are_cut_short_with_an_ellipsis() -> None:
    name = "Extraordinarily " * 60
    body = render(result_of(make(((name, 0.4),))))
    line = next(line for line in body.splitlines() if line.startswith("1. "))
    shown = line.removeprefix("1. “").split("”")[0]
    assert shown.endswith("…")
    assert len(shown) <= LABEL_MAX_CHARS
    assert shown.startswith("Extraordinarily Extraordinarily")


def test_when_too_long_the_lowest_ranked_lines_go_first(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = tuple((f"Condition number {i} " + "x" * 40, 0.15 - i / 100) for i in range(10))
    result = result_of(make(pairs))
    full = render(result, top=10)
    limit = visible_length(full) - 100
    monkeypatch.setattr(result_module, "RESULT_MAX_UTF16", limit)
    cut = render(result, top=10)
    assert visible_length(cut) <= limit
    assert "1. “Condition number 0" in cut
    assert "10. " not in cut
    assert cut.startswith(full.split("\n\n")[0])
    assert cut.endswith(MESSAGES["disclaimer"])
