"""Triage by the clinic: the case's post in the clinicians' group, decisions, relayed messages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits; SQLite auto-increments only a column declared exactly INTEGER.
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DECISIONS = ("self_care", "routine", "urgent", "better_photos")

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decision(nullable: bool) -> sa.Column[str]:
    kind = sa.Enum(
        *DECISIONS, name="triage_decision", native_enum=False, create_constraint=True, length=24
    )
    return sa.Column("decision", kind, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "triage_posts",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("advice_tier", sa.String(length=32), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("album_message_ids", sa.JSON(), nullable=True),
        sa.Column("card_message_id", BIGINT, nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("post_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _decision(nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decisions_in_round", sa.Integer(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_triage_posts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_posts")),
    )
    with op.batch_alter_table("triage_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_posts_case_id"), ["case_id"], unique=True)
        batch_op.create_index(
            "ix_triage_posts_decision_queued_at", ["decision", "queued_at"], unique=False
        )

    op.create_table(
        "triage_decisions",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        _decision(nullable=False),
        sa.Column("advice_tier", sa.String(length=32), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("clinician_telegram_id", BIGINT, nullable=False),
        sa.Column("clinician_name", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waited_s", sa.Float(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_triage_decisions_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_decisions")),
    )
    with op.batch_alter_table("triage_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_decisions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "triage_messages",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "to_person",
                "from_person",
                name="triage_direction",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("clinician_telegram_id", BIGINT, nullable=True),
        sa.Column("clinician_name", sa.String(length=128), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("group_message_id", BIGINT, nullable=True),
        sa.Column("person_message_id", BIGINT, nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_triage_messages_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_messages")),
    )
    with op.batch_alter_table("triage_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_messages_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("triage_messages")
    op.drop_table("triage_decisions")
    op.drop_table("triage_posts")
