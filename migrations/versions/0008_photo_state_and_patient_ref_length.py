"""A photo's state (unchecked on arrival, accepted by its acknowledgement), and the patient
reference holding PATIENT_REF_MAX (24) characters, the limit the person is told.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The value of bot.db.models.PATIENT_REF_MAX when this revision was written (a revision must
# not change when the constant does later).
PATIENT_REF_MAX = 24
# SQLite's batch mode rebuilds the table and cannot carry over an index on an expression (it
# cannot reflect one): 0007's index of retention is dropped first and made again afterwards.
FINISHED_AT = sa.text("coalesce(completed_at, failed_at, cancelled_at)")


def _alter_patient_ref(old: int, new: int) -> None:
    op.drop_index("ix_cases_finished_at", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "patient_ref",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=True,
        )
    op.create_index("ix_cases_finished_at", "cases", [FINISHED_AT], unique=False)


def upgrade() -> None:
    # Photos stored before this revision had all been checked and acknowledged.
    with op.batch_alter_table("case_photos") as batch:
        batch.add_column(
            sa.Column(
                "state", sa.String(length=16), server_default="accepted", nullable=False
            )
        )
    # The screen has always refused longer references; cut any stored another way first, so
    # that PostgreSQL's narrower column accepts every row.
    op.execute(
        sa.text(
            f"UPDATE cases SET patient_ref = substr(patient_ref, 1, {PATIENT_REF_MAX}) "
            f"WHERE length(patient_ref) > {PATIENT_REF_MAX}"
        )
    )
    _alter_patient_ref(40, PATIENT_REF_MAX)


def downgrade() -> None:
    _alter_patient_ref(PATIENT_REF_MAX, 40)
    with op.batch_alter_table("case_photos") as batch:
        batch.drop_column("state")
