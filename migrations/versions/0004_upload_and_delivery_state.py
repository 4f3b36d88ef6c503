"""Upload claims and delivery state on cases: the press, the status message, the uploads
claimed under consent, unreadable answers, and each delivery's tries and how it ended.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits; SQLite auto-increments only a column declared exactly INTEGER.
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("status_message_id", BIGINT, nullable=True))
        batch_op.add_column(sa.Column("uploads", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_upload_at", WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("unreadable_answers", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("delivery_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_delivery_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("result_message_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("card_attempted_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("delivery_given_up_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("delivery_failure", sa.String(length=48), nullable=True))
        batch_op.create_index(
            "ix_cases_status_next_delivery_at", ["status", "next_delivery_at"], unique=False
        )
    # Results completed but never delivered before this revision are due now; so is a case
    # sent before it, whose press time is its submission time.
    cases = sa.table(
        "cases",
        sa.column("status", sa.String()),
        sa.column("delivered_at", WHEN),
        sa.column("completed_at", WHEN),
        sa.column("next_delivery_at", WHEN),
        sa.column("submitted_at", WHEN),
        sa.column("requested_at", WHEN),
    )
    op.execute(
        cases.update()
        .where(cases.c.status == "completed", cases.c.delivered_at.is_(None))
        .values(next_delivery_at=cases.c.completed_at)
    )
    op.execute(
        cases.update()
        .where(cases.c.submitted_at.is_not(None))
        .values(requested_at=cases.c.submitted_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_next_delivery_at")
        batch_op.drop_column("delivery_failure")
        batch_op.drop_column("delivery_given_up_at")
        batch_op.drop_column("card_attempted_at")
        batch_op.drop_column("result_message_at")
        batch_op.drop_column("next_delivery_at")
        batch_op.drop_column("delivery_attempts")
        batch_op.drop_column("unreadable_answers")
        batch_op.drop_column("last_upload_at")
        batch_op.drop_column("uploads")
        batch_op.drop_column("status_message_id")
        batch_op.drop_column("requested_at")
