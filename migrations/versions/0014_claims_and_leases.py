"""Work claimed with a lease (claimed_by / claimed_until) and the leases table (leadership).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As bot/db/claims.py's WORKER_ID_MAX when this revision was written.
WORKER_ID_MAX = 64


# Plain ALTERs, not batch mode (as in 0009): recreating `cases` would lose 0007's expression
# index.
def upgrade() -> None:
    for table in ("cases", "triage_posts"):
        op.add_column(table, sa.Column("claimed_by", sa.String(WORKER_ID_MAX), nullable=True))
        op.add_column(table, sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "clinic_copies", sa.Column("claimed_by", sa.String(WORKER_ID_MAX), nullable=True)
    )
    op.create_table(
        "leases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(WORKER_ID_MAX), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leases")),
        sa.UniqueConstraint("name", name=op.f("uq_leases_name")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_column("clinic_copies", "claimed_by")
    for table in ("triage_posts", "cases"):
        op.drop_column(table, "claimed_until")
        op.drop_column(table, "claimed_by")
