"""Indexes for every query that filters by time or status: /stats' counts of the day, retention,
orphaned submissions, the clinic's queue, undelivered decisions, the triage report.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns); plain CREATE INDEX, which SQLite does without rebuilding a table.
INDEXES = (
    ("ix_cases_created_at", "cases", ["created_at"]),
    ("ix_cases_submitted_at", "cases", ["submitted_at"]),
    ("ix_cases_completed_at", "cases", ["completed_at"]),
    ("ix_cases_failed_at", "cases", ["failed_at"]),
    ("ix_cases_status_updated_at", "cases", ["status", "updated_at"]),
    ("ix_triage_posts_posted_at_queued_at", "triage_posts", ["posted_at", "queued_at"]),
    (
        "ix_triage_decisions_delivered_at_decided_at",
        "triage_decisions",
        ["delivered_at", "decided_at"],
    ),
    ("ix_triage_decisions_decided_at", "triage_decisions", ["decided_at"]),
)
# The expression bot.db.models.CASE_FINISHED_AT, as retention queries it.
FINISHED_AT = sa.text("coalesce(completed_at, failed_at, cancelled_at)")


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index("ix_cases_finished_at", "cases", [FINISHED_AT], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_finished_at", table_name="cases")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
