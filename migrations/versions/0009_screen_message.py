"""The case's screen message: the one message edited in place as the person answers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits (as in 0004).
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTERs, not batch mode: SQLite adds and drops these columns in place, and recreating
# the table would lose 0007's expression index (ix_cases_finished_at).
def upgrade() -> None:
    op.add_column("cases", sa.Column("screen_message_id", BIGINT, nullable=True))
    op.add_column(
        "cases", sa.Column("screen_settle", sa.String(length=8), server_default="", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("cases", "screen_settle")
    op.drop_column("cases", "screen_message_id")
