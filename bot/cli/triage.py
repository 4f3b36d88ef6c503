"""`triage-report`: the clinic's triage numbers, and optionally every decision as CSV."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli import EXIT_OK
from bot.cli.db import (
    _in_unit,
    _positive_int,
    _require_migrated,
    _settings,
    _writing_once,
    database_errors,
)

# The database's modules are imported inside the commands, so that `--help` stays fast.
if TYPE_CHECKING:
    from bot.db.triage_audit import TriageReport

# Wide enough for the longest tier's name ("if_no_improvement").
COLUMN = 19


def register(subparsers: Any) -> None:
    report = subparsers.add_parser(
        "triage-report",
        help="the clinic's triage numbers: time to decision, agreement with the AI",
        description="Print how long cases waited for a clinician's first decision and how often "
        "clinicians agreed with the bot's advice tier. --csv writes every decision (no Telegram "
        "id of any person) for an audit.",
    )
    report.add_argument("--days", type=_positive_int, metavar="N", help="only the last N days")
    report.add_argument("--csv", type=Path, metavar="FILE", help="also write decisions as CSV")
    report.set_defaults(handler=handle_report)


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


def format_report(report: TriageReport) -> str:
    since = f" since {report.since:%Y-%m-%d}" if report.since else ""
    lines = [
        f"Triage{since}",
        f"  waiting for a decision now: {report.waiting_now}",
        f"  first decisions: {report.first_decisions} "
        f"(changed afterwards: {report.changed_decisions}; better photos asked: "
        f"{report.better_photos})",
        f"  time to first decision: median {_minutes(report.median_wait_s())}, "
        f"90th percentile {_minutes(report.p90_wait_s())}",
    ]
    if report.compared:
        share = 100 * report.agreed / report.compared
        lines.append(
            f"  agreed with the AI's tier: {report.agreed} of {report.compared} ({share:.0f}%); "
            f"clinician more urgent: {report.clinician_more_urgent}, "
            f"less urgent: {report.clinician_less_urgent}"
        )
    lines.append("  first decisions by the AI's tier:")
    from bot.db.models import TriageDecisionKind
    from bot.domain.advice import AdviceTier

    # Most urgent first on the one scale, the AI's tiers as rows, the decisions as columns.
    decisions = [kind.value for kind in TriageDecisionKind]
    lines.append("    " + "AI tier".ljust(COLUMN) + "".join(d.rjust(COLUMN) for d in decisions))
    for tier in AdviceTier:
        counts = "".join(str(report.by_tier[(tier.value, d)]).rjust(COLUMN) for d in decisions)
        lines.append("    " + tier.value.ljust(COLUMN) + counts)
    return "\n".join(lines)


def handle_report(args: argparse.Namespace) -> int:
    from bot.db.triage_audit import export_decisions_csv, triage_report

    settings = _settings()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.days) if args.days else None
    with database_errors(settings):
        _require_migrated(settings.database_url)
        report = _in_unit(settings, triage_report, since=since)
        if args.csv is not None:
            output: Path = args.csv
            partial = output.with_name(output.name + ".partial")
            try:
                with partial.open("w", newline="", encoding="utf-8") as out:
                    rows = _in_unit(settings, _writing_once(export_decisions_csv), out)
                os.replace(partial, output)
            finally:
                partial.unlink(missing_ok=True)
            print(f"wrote {rows} decision(s) to {output}")
    print(format_report(report))
    return EXIT_OK
