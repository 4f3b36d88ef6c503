"""Indexes for /history: a person's checks in order, all of them or those of one patient code.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, columns) on `cases`; plain CREATE INDEX, which SQLite does without rebuilding a table.
INDEXES = (
    ("ix_cases_user_id_id", ["user_id", "id"]),
    ("ix_cases_user_id_patient_ref", ["user_id", "patient_ref", "id"]),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "cases", columns, unique=False)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name="cases")
