"""The clinic's copies of erased, expired or withdrawn cases, until they are deleted; the
albums and cards of earlier triage rounds; posts refused for want of consent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits; SQLite auto-increments only a column declared exactly INTEGER.
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REASONS = ("erased", "expired", "withdrawn")

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("triage_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("earlier_album_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("earlier_card_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "clinic_copies",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_public_id", sa.Uuid(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                *REASONS,
                name="clinic_copy_reason",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("chat_id", BIGINT, nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("card_ids", sa.JSON(), nullable=False),
        sa.Column("refused_ids", sa.JSON(), nullable=False),
        sa.Column("notify_chat_id", BIGINT, nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_copies")),
    )


def downgrade() -> None:
    op.drop_table("clinic_copies")
    with op.batch_alter_table("triage_posts", schema=None) as batch_op:
        batch_op.drop_column("refused_at")
        batch_op.drop_column("earlier_card_ids")
        batch_op.drop_column("earlier_album_ids")
