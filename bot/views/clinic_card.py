"""The case card clinicians see: the case in a few lines, the AI's answer, and the decisions.

Nothing on it names the person: no Telegram name, username or id, no exact birth year (an age
band) and not the sender's private reference for someone else's skin (a label they chose for
themselves, which may be a name despite the advice; the clinic needs only whose skin it is).
The card is always rendered from the stored case and decisions, so an edit after a restart
shows exactly the same as before. It always fits in one message: the AI's names and the
clinicians' names are cleaned and cut short (bot/i18n/limits.py), and should a case collect
more decisions than fit, the oldest are counted instead of listed.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.db.models import Case, Subject, TriageDecision, TriageDecisionKind, TriagePost
from bot.domain.advice import Advice, Reason, Why
from bot.domain.diagnosis import Diagnosis
from bot.domain.steps import Step
from bot.i18n.limits import TEXT_MAX_UTF16, display_label, visible_length
from bot.i18n.texts import text
from bot.views.answers import answer_label
from bot.views.clinic_buttons import CHANGE, CODE_OF, TriageButton
from bot.views.result import percent, short_case_id

CARD_FIELDS = (
    Step.SEX,
    Step.SKIN_TYPE,
    Step.BODY_SITE,
    Step.ITCH,
    Step.PAIN,
    Step.ONSET,
    Step.RECENT_CHANGE,
)
STAMP = "%Y-%m-%d %H:%M UTC"


def age_band(birth_year: int | None, today: dt.date) -> str | None:
    """A decade such as "40-49": enough for triage, and not the birth year itself."""
    if birth_year is None:
        return None
    age = max(0, today.year - birth_year)
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def duration(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return text("duration_minutes", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return text("duration_hours", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return text("duration_days", days=days, hours=hours)


def reason_label(reason: Reason) -> str:
    """A rule that fired, for clinicians: the rule, then the AI's names that triggered it."""
    label = text(f"advice_rule_{reason.why.value}")
    if not reason.conditions:
        return label
    return f"{label} ({', '.join(display_label(name) for name in reason.conditions)})"


def decision_label(kind: TriageDecisionKind) -> str:
    return text(f"triage_decision_{kind.value}")


def render_card(
    post: TriagePost,
    case: Case,
    diagnosis: Diagnosis,
    advice: Advice,
    decisions: list[TriageDecision],
    *,
    top: int,
    now: dt.datetime,
    superseded: bool = False,
) -> str:
    """The card's text, at most TEXT_MAX_UTF16 long as Telegram counts it."""
    shown, hidden = list(decisions), 0
    while True:
        body = _render_card(
            post, case, diagnosis, advice, shown, hidden, top=top, now=now, superseded=superseded
        )
        if visible_length(body) <= TEXT_MAX_UTF16 or not shown:
            return body
        shown, hidden = shown[1:], hidden + 1  # the oldest decision first


def _render_card(
    post: TriagePost,
    case: Case,
    diagnosis: Diagnosis,
    advice: Advice,
    decisions: list[TriageDecision],
    hidden_decisions: int,
    *,
    top: int,
    now: dt.datetime,
    superseded: bool,
) -> str:
    q = case.questionnaire
    skipped = text("summary_skipped")
    round_note = text("triage_card_round", round=post.round) if post.round > 1 else ""
    lines = [text("triage_card_title", case=short_case_id(str(case.public_id))) + round_note, ""]

    def line(label: str, value: str | None) -> None:
        lines.append(text("triage_card_line", label=label, value=value or skipped))

    line(text("triage_label_age"), age_band(q.birth_year, now.date()))
    for step in CARD_FIELDS:
        line(text(f"label_{step.value}"), answer_label(step, q))
    own = case.subject is Subject.OWN
    line(text("triage_label_whose"), text("triage_whose_own" if own else "triage_whose_other"))
    line(text("triage_label_photos"), str(len(case.accepted_photos)))
    lines += ["", text("triage_ai_title")]
    shown = diagnosis.conditions[:top]
    for rank, condition in enumerate(shown, start=1):
        lines.append(
            text(
                "triage_ai_line",
                rank=rank,
                name=display_label(condition.name),
                percent=percent(condition.probability),
            )
        )
    if not shown:
        lines.append(text("triage_ai_none"))
    malignancy = diagnosis.malignancy_output
    lines.append(text("triage_ai_malignancy", value="—" if malignancy is None else str(malignancy)))
    lines.append(text("triage_ai_tier", tier=text(f"triage_tier_{advice.tier.value}")))
    shown_reasons = [r for r in advice.reasons if r.why is not Why.NONE_ABOVE]
    if shown_reasons:
        reasons = "; ".join(reason_label(r) for r in shown_reasons)
        lines.append(text("triage_ai_reasons", reasons=reasons))
    lines.append("")
    sent = post.waiting_since.strftime(STAMP)
    if decisions or hidden_decisions:
        lines.append(text("triage_sent", sent=sent))
    else:
        waited = duration((now - post.waiting_since).total_seconds())
        lines.append(text("triage_waiting", sent=sent, waited=waited))
    if hidden_decisions:
        lines.append(text("triage_earlier_decisions", count=hidden_decisions))
    for decision in decisions:
        lines.append(
            text(
                "triage_decided",
                decision=decision_label(decision.decision),
                name=display_label(decision.clinician_name),
                when=decision.decided_at.strftime(STAMP),
                changed=text("triage_decided_changed") if decision.changed else "",
            )
        )
    if superseded:
        lines.append(text("triage_superseded"))
    else:
        lines += ["", text("triage_reply_hint")]
    return "\n".join(lines)


def card_keyboard(
    post: TriagePost, *, choosing: bool = False, superseded: bool = False
) -> InlineKeyboardMarkup | None:
    """The four decisions while undecided (or changing); else "Change decision"."""
    if superseded:
        return None
    seen = post.decisions_in_round
    if seen and not choosing:
        change = TriageButton(CHANGE, post.id, post.round, seen).encode()
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(text("triage_button_change"), callback_data=change)]]
        )
    rows = [
        [
            InlineKeyboardButton(
                decision_label(kind),
                callback_data=TriageButton(CODE_OF[kind], post.id, post.round, seen).encode(),
            )
        ]
        for kind in TriageDecisionKind
    ]
    return InlineKeyboardMarkup(rows)
