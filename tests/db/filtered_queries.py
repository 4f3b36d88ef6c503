"""The bot's queries that filter by time or status, each as the unit of work that runs it, with
the indexes that serve it (tests/db/test_query_plans.py checks them; tests/perf/bench_queries.py
times them on many cases)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.conversation.admin import day_counts
from bot.db import cases, clinic_copies, fair_use, history, triage, triage_audit
from bot.db.claims import Claim
from bot.db.delivery import claim_due_deliveries
from bot.db.models import Case, CaseStatus, FairUseMark, TriageDecision, TriagePost, User
from bot.db.retention import purge_expired_cases
from bot.domain.advice import AdviceRules
from bot.ops.health import pending_count

PEOPLE = 20_000
DAYS = 200
# The Telegram id of the first person; the marks of fair use are of the first hundred.
MARKED_PERSON = 5_000_000_001
# A bot purges every day: one day's cases are due at a time.
RETENTION_DAYS = DAYS - 1

# A person's checks, in order or of one patient code.
PERSONS_CASES = r"ix_cases_user_id\w*"
# Any of the two status indexes serves a condition on the status alone.
STATUS = r"ix_cases_status_\w+"
# The jobs' queries are their claims (bot/db/claims.py).
CLAIM = Claim("query-plans", dt.timedelta(minutes=1))
# Cases being collected: a status index, or the partial index of one such case per person.
COLLECTING = rf"{STATUS}|uq_cases_one_collecting_per_user"


def _status(n: int) -> CaseStatus:
    """Most cases completed; every 25th failed, every 26th cancelled, every 200th waiting."""
    if n % 200 == 0:
        return CaseStatus.PENDING_RETRY
    if n % 25 == 0:
        return CaseStatus.FAILED
    if n % 26 == 0:
        return CaseStatus.CANCELLED
    return CaseStatus.COMPLETED


def fill(session: Session, count: int, now: dt.datetime) -> None:
    """`count` cases of PEOPLE people over DAYS days, as a busy deployment has them: most
    completed, some failed, cancelled, being collected or waiting for a retry; a fifth of the
    completed ones posted to the clinic and decided; a day of fair-use marks."""
    session.execute(
        insert(User),
        [
            {
                "id": n,
                "telegram_user_id": MARKED_PERSON - 1 + n,
                "first_seen": now,
                "last_seen": now,
            }
            for n in range(1, PEOPLE + 1)
        ],
    )
    step = dt.timedelta(days=DAYS) / count
    # The newest cases (one in twenty, at most a thousand, each of another person) are still
    # being collected.
    collecting_from = count - min(1000, count // 20)
    rows: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        created = now - dt.timedelta(days=DAYS) + n * step
        status = CaseStatus.COLLECTING if n > collecting_from else _status(n)
        done = created + dt.timedelta(minutes=2)
        rows.append(
            {
                "id": n,
                "public_id": uuid.UUID(int=n),
                "user_id": (n % PEOPLE) + 1,
                "status": status,
                "subject": "own",
                "attempts": 1,
                "step": "summary",
                "editing": False,
                "created_at": created,
                "updated_at": done,
                "submitted_at": None if status is CaseStatus.COLLECTING else created,
                "completed_at": done if status is CaseStatus.COMPLETED else None,
                "failed_at": done if status is CaseStatus.FAILED else None,
                "cancelled_at": done if status is CaseStatus.CANCELLED else None,
                "next_attempt_at": done if status is CaseStatus.PENDING_RETRY else None,
                "delivered_at": done if status is CaseStatus.COMPLETED else None,
                "uploads": 1,
                "unreadable_answers": 0,
                "delivery_attempts": 1,
            }
        )
        if len(rows) == 10_000:
            session.execute(insert(Case), rows)
            rows = []
    if rows:
        session.execute(insert(Case), rows)
    completed = (n for n in range(1, collecting_from + 1) if _status(n) is CaseStatus.COMPLETED)
    posted = [n for n in completed if n % 5 == 0]
    queued = {n: now - dt.timedelta(days=DAYS) + n * step for n in posted}
    session.execute(
        insert(TriagePost),
        [
            {
                "id": n,
                "case_id": n,
                "round": 1,
                "advice_tier": "within_days",
                "waiting_since": queued[n],
                "queued_at": queued[n],
                "card_message_id": n,
                "posted_at": queued[n],
                "post_attempts": 1,
                "decision": "within_days",
                "decided_at": queued[n] + dt.timedelta(hours=1),
                "decisions_in_round": 1,
            }
            for n in posted
        ],
    )
    session.execute(
        insert(TriageDecision),
        [
            {
                "case_id": n,
                "round": 1,
                "decision": "within_days",
                "advice_tier": "within_days",
                "changed": False,
                "clinician_telegram_id": 42,
                "clinician_name": "Dr Grey",
                "decided_at": queued[n] + dt.timedelta(hours=1),
                "waited_s": 3600.0,
                "delivered_at": queued[n] + dt.timedelta(hours=1),
            }
            for n in posted
        ],
    )
    key = fair_use.ensure_key(session)
    day = fair_use.MARK_LIFETIME / 1000
    session.execute(
        insert(FairUseMark),
        [
            {
                "person_hash": fair_use.person_hash(key, MARKED_PERSON + n % 100),
                "submitted_at": now - n * day,
            }
            for n in range(1000)
        ],
    )


def queries(now: dt.datetime) -> dict[str, Callable[[Session], object]]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "stats": lambda s: day_counts(s, midnight),
        "health_pending": pending_count,
        "due_for_retry": lambda s: cases.claim_due_retries(s, CLAIM, now=now),
        "park_orphans": lambda s: cases.park_orphans(
            s, set(), idle_since=now - dt.timedelta(minutes=2), now=now
        ),
        "due_deliveries": lambda s: claim_due_deliveries(s, CLAIM, now=now),
        "retention_count": lambda s: purge_expired_cases(s, RETENTION_DAYS, now=now, dry_run=True),
        "fair_use_times": lambda s: fair_use.submission_times(
            s, MARKED_PERSON, since=now - fair_use.MARK_LIFETIME
        ),
        "fair_use_expired": lambda s: fair_use.forget_expired(s, now=now),
        "triage_unposted": lambda s: triage.claim_unposted(s, CLAIM),
        "triage_undecided": triage.undecided,
        "triage_reminders": lambda s: triage.claim_due_reminders(
            s, CLAIM, after=dt.timedelta(hours=1), now=now
        ),
        "triage_undelivered": lambda s: triage.undelivered_decisions(s, decided_before=now),
        "triage_report_week": lambda s: triage_audit.triage_report(
            s, since=now - dt.timedelta(days=7)
        ),
        "history_page": lambda s: history.history_page(s, MARKED_PERSON, AdviceRules()),
        "history_by_code": lambda s: history.history_page(
            s, MARKED_PERSON, AdviceRules(), code="PT-0417"
        ),
        "own_export": lambda s: history.own_checks(s, MARKED_PERSON, AdviceRules()),
        # A queue: its rows are deleted once handled (at the latest after a day), so it stays
        # small and a scan is the right plan; no index.
        "clinic_copies_unclaimed": lambda s: clinic_copies.unclaimed(s, now=now),
    }


# Query -> patterns of the index names that its plan must show (each one at least once).
INDEXES: dict[str, tuple[str, ...]] = {
    "stats": (
        "ix_cases_created_at",
        "ix_cases_submitted_at",
        "ix_cases_completed_at",
        "ix_cases_failed_at",
        STATUS,
    ),
    "health_pending": (STATUS,),
    "due_for_retry": ("ix_cases_status_next_attempt_at",),
    "park_orphans": (STATUS,),
    "due_deliveries": ("ix_cases_status_next_delivery_at",),
    "retention_count": ("ix_cases_finished_at", COLLECTING),
    "fair_use_times": ("ix_fair_use_marks_person_submitted",),
    "fair_use_expired": ("ix_fair_use_marks_submitted_at",),
    "triage_unposted": ("ix_triage_posts_posted_at_queued_at",),
    "triage_undecided": ("ix_triage_posts_decision_queued_at",),
    "triage_reminders": ("ix_triage_posts_decision_queued_at",),
    "triage_undelivered": ("ix_triage_decisions_delivered_at_decided_at",),
    "triage_report_week": ("ix_triage_decisions_decided_at",),
    "clinic_copies_unclaimed": (),
    # A person's checks (one person's among 20 000 people's).
    "history_page": (PERSONS_CASES,),
    "history_by_code": (PERSONS_CASES,),
    "own_export": (PERSONS_CASES,),
}
# Tables a plan may read whole.
SMALL_TABLES = frozenset({"clinic_copies", "bot_state"})
