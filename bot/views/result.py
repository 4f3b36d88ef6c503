"""The result message: what to do first, how far to trust the AI, then what it matched.

Top to bottom it follows what the person needs, on a phone, in this order:

1. one header line: the AI estimate's check id, the day it was sent, the field worker's code;
2. the headline: what to do and how soon (one per advice tier, its icon following the tier's
   urgency), and why (the rule that set the tier, worded per `Why`), with the other reasons
   briefly when they add something; then a block of lines others may add (`after_headline`);
3. how far to trust it: the AI unsure, no specific condition recognised, and the caveats that
   apply (dark skin, a person under 18, a single photo);
4. the AI's matches: plain names first, the medical name after, each score called an "AI match
   score", never a chance, and what such a score is worth;
5. the red flags that mean urgent care now, and one disclaimer line.

The AI's malignancy output and the number of photos it analysed are for clinicians and
operators, not for the person: they stay on the case record, the clinic's card, the export and
`diagnose --json`.

It always fits in one Telegram message: every name the API supplied is cleaned and cut short
(bot/i18n/limits.py), and if the whole were still too long the lowest-ranked matches would be
left out rather than the message refused. A name the bot has no entry for is shown in quotation
marks, with a line saying they are the AI's own labels: text the API sends ("You are healthy")
must never read as the bot's own statement.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from bot.domain.advice import Advice, AdviceTier, Reason, Why
from bot.domain.diagnosis import Condition
from bot.domain.questionnaire import Questionnaire
from bot.domain.result import CaseResult
from bot.domain.safeguards import may_be_a_minor
from bot.i18n import current_language
from bot.i18n import formatting as fmt
from bot.i18n.conditions import info_url, medical_name, plain_name
from bot.i18n.limits import TEXT_MAX_UTF16, display_label, trim_label, visible_length
from bot.i18n.texts import MESSAGES, raw, text

# Room left in the message for what deliver() (bot/services/delivery.py) puts around the
# result: the late result's intro. A test checks that it fits in it in every language. Lines
# after the headline (the clinic's note, a comparison) are inside RESULT_MAX_UTF16.
ROOM_AROUND_RESULT = 512
RESULT_MAX_UTF16 = TEXT_MAX_UTF16 - ROOM_AROUND_RESULT

# The tiers' colours in the order of their urgency, the same order as the card's colours: red
# for the most urgent, green for self-care.
TIER_ICONS: dict[AdviceTier, str] = {
    AdviceTier.URGENT_CARE: "🟥",
    AdviceTier.WITHIN_DAYS: "🟧",
    AdviceTier.WITHIN_2_WEEKS: "🟨",
    AdviceTier.IF_NO_IMPROVEMENT: "🟦",
    AdviceTier.SELF_CARE: "🟩",
}
# Fitzpatrick types the AI has been tested less on.
DARK_SKIN_TYPES = frozenset({5, 6})
# Other reasons than the headline's, named after it ("Also: you said it bleeds").
MAX_FURTHER_REASONS = 2
# Said in lines of their own, never as a further reason.
_OWN_LINES = frozenset({Why.UNSURE, Why.NOTHING_NAMED, Why.NONSPECIFIC, Why.NONE_ABOVE})


def percent(probability: float) -> str:
    """A score as a person reads it, in their language: whole percent, never 0% or 100% for a
    value that is neither ("27%", Spanish "27 %")."""
    return fmt.percent(probability)


def short_case_id(public_id: str) -> str:
    """Enough of the UUID to recognise a case in a chat; the full id is in the database."""
    return public_id.replace("-", "")[:8]


def condition_label(name: str, ai_label: str = "result_ai_label") -> tuple[str, bool]:
    """A condition's plain name as the current person reads it (plain text), and whether the
    bot knows the condition; else the AI's label, cleaned, cut short and quoted by the message
    `ai_label` (the result, the card and /history each say it their way): text the API sends
    must not read as the bot's own words."""
    known = plain_name(name, current_language())
    if known is not None:
        return trim_label(known), True
    return raw(ai_label, name=display_label(name)), False


def condition_html(condition: Condition) -> tuple[str, bool, bool]:
    """The condition's name as HTML, "Mole (melanocytic nevus)", linked to a page about it when
    there is one; whether it is linked, and whether it is the AI's own label."""
    language = current_language()
    label, known = condition_label(condition.name)
    medical = medical_name(condition.name, language) if known else None
    if medical:
        label = f"{label} ({trim_label(medical)})"
    name = html.escape(label, quote=False)
    url = info_url(condition.name, language)
    if url is None:
        return name, False, not known
    return f'<a href="{html.escape(url, quote=True)}">{name}</a>', True, not known


def render_result(
    result: CaseResult,
    *,
    zone: dt.tzinfo,
    top: int = 5,
    after_headline: Sequence[str] = (),
) -> str:
    """The result text, at most RESULT_MAX_UTF16 long as Telegram counts it.

    `after_headline`: lines (safe HTML) shown right under what to do, such as a comparison with
    an earlier check.
    """
    shown = list(result.diagnosis.conditions[:top])
    while True:
        body = _render(result, shown, zone, after_headline)
        # Cannot happen with names cut short; a last resort that drops, never fails.
        if visible_length(body) <= RESULT_MAX_UTF16 or not shown:
            return body
        shown.pop()


def _render(
    result: CaseResult,
    shown: Sequence[Condition],
    zone: dt.tzinfo,
    after_headline: Sequence[str],
) -> str:
    advice = result.advice
    blocks = [
        [header(result, zone)],
        headline(advice, result.questionnaire),
        list(after_headline),
        trust_lines(result),
        matches(shown, said_nothing=_first_why(advice) is Why.NOTHING_NAMED),
        [text("redflags"), text("disclaimer")],
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block)


def header(result: CaseResult, zone: dt.tzinfo) -> str:
    case = short_case_id(str(result.public_id))
    date = fmt.date(result.checked_at, zone)
    if result.patient_ref:
        return text(
            "result_title_patient", case=case, date=date, patient=display_label(result.patient_ref)
        )
    return text("result_title", case=case, date=date)


def _first_why(advice: Advice) -> Why | None:
    return advice.reasons[0].why if advice.reasons else None


def reason_text(reason: Reason, questionnaire: Questionnaire) -> str | None:
    """Why, as a clause after the headline ("you said it bleeds"); None for a rule the text
    has no wording for (the headline then stands alone rather than the result failing)."""
    if reason.why is Why.CHANGED:
        # Which change the person named, once the questionnaire asks it (`recent_change`).
        change = questionnaire.to_dict().get("recent_change")
        key = f"advice_why_changed_{change}"
        if change and key in MESSAGES:
            return text(key)
    key = f"advice_why_{reason.why.value}"
    return text(key) if key in MESSAGES else None


def headline(advice: Advice, questionnaire: Questionnaire) -> list[str]:
    """What to do, how soon and why; then what to do now."""
    tier = advice.tier
    action = text(f"advice_{tier.value}")
    why = reason_text(advice.reasons[0], questionnaire) if advice.reasons else None
    if why is None and tier is AdviceTier.SELF_CARE:
        why = text("advice_why_none_above")
    first = (
        raw("advice_because", action=action, why=why) if why else raw("advice_alone", action=action)
    )
    lines = [f"{TIER_ICONS[tier]} {first}"]
    further: list[str] = []
    said = {_first_why(advice)}
    for reason in advice.reasons[1:]:
        if reason.why in said or reason.why in _OWN_LINES:
            continue
        said.add(reason.why)
        wording = reason_text(reason, questionnaire)
        if wording is not None and len(further) < MAX_FURTHER_REASONS:
            further.append(wording)
    if further:
        lines.append(raw("advice_also", reasons=text("advice_also_separator").join(further)))
    lines.append(text(f"advice_next_{tier.value}"))
    return lines


def trust_lines(result: CaseResult) -> list[str]:
    """How far to trust the AI this time: unsure, nothing specific, and the caveats that apply."""
    advice, questionnaire = result.advice, result.questionnaire
    lines: list[str] = []
    if advice.unsure and _first_why(advice) is not Why.UNSURE:
        lines.append(text("result_unsure"))
    if advice.nonspecific and _first_why(advice) is not Why.NONSPECIFIC:
        lines.append(text("result_nonspecific"))
    if questionnaire.skin_type in DARK_SKIN_TYPES:
        lines.append(text("result_caveat_dark_skin"))
    birth_year = questionnaire.birth_year
    if birth_year is not None and may_be_a_minor(birth_year, result.checked_at.date()):
        lines.append(text("result_caveat_minor"))
    if result.diagnosis.photos_analysed == 1:
        lines.append(text("result_caveat_one_photo"))
    return [f"• {line}" for line in lines]


def matches(shown: Sequence[Condition], *, said_nothing: bool) -> list[str]:
    """The AI's matches with their scores, and what a score is worth."""
    if not shown:
        return [] if said_nothing else [text("result_nothing")]
    lines = [text("result_intro")]
    linked = quoted = False
    for rank, condition in enumerate(shown, start=1):
        name, has_link, is_label = condition_html(condition)
        linked, quoted = linked or has_link, quoted or is_label
        score = html.escape(percent(condition.probability), quote=False)
        lines.append(raw("result_line", rank=rank, name=name, percent=score))
    lines.append(text("result_score_note"))
    if linked:
        lines.append(text("result_links"))
    if quoted:
        lines.append(text("result_ai_labels"))
    return lines
