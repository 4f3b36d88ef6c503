"""`advice-rules` and `advice-check`: the advice rule table, and how it treats real answers."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.cli import EXIT_OK, EXIT_USAGE, CommandError
from bot.config import load_settings
from bot.domain.advice import RULES, AdviceRules, advise
from bot.domain.questionnaire import Questionnaire
from bot.modelderm.errors import AnswerError
from bot.modelderm.protocol import parse_answer
from bot.services.container import advice_rules_of


def register(subparsers: Any) -> None:
    rules = subparsers.add_parser(
        "advice-rules",
        help="print the advice rule table with the thresholds in force",
        description="Print the advice rule table (tier, time frame, rule, why) as a Markdown "
        "table, with the thresholds of the settings (ADVICE_*) and ADVICE_RULES_FILE.",
    )
    rules.set_defaults(handler=handle_rules)
    check = subparsers.add_parser(
        "advice-check",
        help="the advice for each raw API answer in a file, and the share flagged unsure",
        description="Read raw Model Dermatology answers, one a line, and print for each its "
        "top match, AI match score, advice tier and whether it is flagged unsure, then the "
        "share flagged. The person's answers are not in an API answer: none are assumed.",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="raw API answers, one a line")
    check.add_argument(
        "--unsure-below",
        type=float,
        metavar="SCORE",
        help="try another threshold than ADVICE_UNSURE_BELOW (0 to 1)",
    )
    check.set_defaults(handler=handle_check)


def rule_table(rules: AdviceRules) -> str:
    """The table as Markdown, most urgent first."""
    lines = ["| tier | time frame | rule | why |", "|---|---|---|---|"]
    for row in RULES:
        lines.append(
            f"| {row.tier.value} | {row.time_frame} | {row.rule.describe(rules)} | "
            f"{row.why.value} |"
        )
    return "\n".join(lines)


def handle_rules(args: argparse.Namespace) -> int:
    print(rule_table(advice_rules_of(load_settings())))
    return EXIT_OK


def check_lines(lines: list[str], rules: AdviceRules) -> list[str]:
    """One line per answer, then the share flagged unsure."""
    out = [f"{'#':>3}  {'top match':<28} {'score':>6}  {'tier':<18} unsure"]
    flagged = answers = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            diagnosis = parse_answer(line.encode("utf-8"))
        except AnswerError as exc:
            out.append(f"{number:>3}  unreadable answer: {exc}")
            continue
        answers += 1
        advice = advise(diagnosis, Questionnaire(), rules)
        flagged += advice.unsure
        top = diagnosis.conditions[0] if diagnosis.conditions else None
        name = top.name if top else "(none named)"
        score = f"{top.probability:.0%}" if top else "-"
        out.append(
            f"{number:>3}  {name[:28]:<28} {score:>6}  {advice.tier.value:<18} "
            f"{'yes' if advice.unsure else 'no'}"
        )
    share = f" ({flagged / answers:.0%})" if answers else ""
    out.append(
        f"flagged unsure: {flagged} of {answers} answers{share}, threshold {rules.unsure_below:.0%}"
    )
    return out


def handle_check(args: argparse.Namespace) -> int:
    rules = advice_rules_of(load_settings())
    if args.unsure_below is not None:
        if not 0 <= args.unsure_below <= 1:
            raise CommandError("--unsure-below must be between 0 and 1", EXIT_USAGE)
        rules = replace(rules, unsure_below=args.unsure_below)
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}", EXIT_USAGE) from None
    print("\n".join(check_lines(lines, rules)))
    return EXIT_OK
