"""Triage numbers a clinic can audit, and the decisions as CSV, from the decision records.

Only `triage_decisions` is read, and it holds nothing about the person: the numbers stay true
after people are erased (their decisions stay, unlinked). Agreement compares each case's first
decision of a round with the AI's advice tier on the same urgency scale; "Need better photos"
is not a triage level and is counted apart.
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Case, TriageDecision, TriageDecisionKind, TriagePost
from bot.db.spreadsheet import spreadsheet_text
from bot.domain.advice import AdviceTier

COLUMNS = (
    "case_id",
    "round",
    "decision",
    "changed",
    "advice_tier",
    "agrees_with_ai",
    "clinician",
    "decided_at",
    "waited_s",
)


@dataclass
class TriageReport:
    since: dt.datetime | None
    waiting_now: int = 0
    first_decisions: int = 0
    changed_decisions: int = 0
    better_photos: int = 0
    # Seconds from entering the queue to the first decision.
    waits_s: list[float] = field(default_factory=list)
    # (AI tier, first decision) -> count.
    by_tier: Counter[tuple[str, str]] = field(default_factory=Counter)
    agreed: int = 0
    clinician_more_urgent: int = 0
    clinician_less_urgent: int = 0

    @property
    def compared(self) -> int:
        return self.agreed + self.clinician_more_urgent + self.clinician_less_urgent

    def median_wait_s(self) -> float | None:
        return statistics.median(self.waits_s) if self.waits_s else None

    def p90_wait_s(self) -> float | None:
        if len(self.waits_s) < 2:
            return self.waits_s[0] if self.waits_s else None
        return statistics.quantiles(self.waits_s, n=10, method="inclusive")[-1]


def agreement(advice_tier: str, decision: TriageDecisionKind) -> int | None:
    """0 agreed, +1 the clinician was more urgent, -1 less urgent (by AdviceTier.urgency: how
    soon each says to act); None if not comparable (better photos, or a tier no longer known)."""
    clinician = decision.tier
    if clinician is None or advice_tier not in set(AdviceTier):
        return None
    ai = AdviceTier(advice_tier)
    return (clinician.urgency > ai.urgency) - (clinician.urgency < ai.urgency)


def triage_report(session: Session, *, since: dt.datetime | None = None) -> TriageReport:
    report = TriageReport(since)
    # In the order of the decided_at index (the report's numbers do not depend on the order).
    query = select(TriageDecision).order_by(TriageDecision.decided_at, TriageDecision.id)
    if since is not None:
        query = query.where(TriageDecision.decided_at >= since)
    for decision in session.scalars(query):
        if decision.changed:
            report.changed_decisions += 1
            continue
        report.first_decisions += 1
        report.waits_s.append(decision.waited_s)
        report.by_tier[(decision.advice_tier, decision.decision.value)] += 1
        if decision.decision is TriageDecisionKind.BETTER_PHOTOS:
            report.better_photos += 1
        match agreement(decision.advice_tier, decision.decision):
            case 0:
                report.agreed += 1
            case 1:
                report.clinician_more_urgent += 1
            case -1:
                report.clinician_less_urgent += 1
    waiting = session.scalars(
        select(TriagePost.id).where(
            TriagePost.decision.is_(None), TriagePost.posted_at.is_not(None)
        )
    )
    report.waiting_now = len(list(waiting))
    return report


def export_decisions_csv(session: Session, out: TextIO) -> int:
    """Every decision as a CSV row, oldest first; no Telegram id of anyone."""
    rows = session.execute(
        select(TriageDecision, Case.public_id)
        .outerjoin(Case, Case.id == TriageDecision.case_id)
        .order_by(TriageDecision.id)
    )
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for decision, public_id in rows:
        agrees = agreement(decision.advice_tier, decision.decision)
        writer.writerow(
            [
                "" if public_id is None else str(public_id),
                decision.round,
                decision.decision.value,
                int(decision.changed),
                decision.advice_tier,
                "" if agrees is None else int(agrees == 0),
                spreadsheet_text(decision.clinician_name),
                decision.decided_at.isoformat(),
                f"{decision.waited_s:.0f}",
            ]
        )
        count += 1
    return count
