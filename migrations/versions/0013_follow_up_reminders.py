"""Follow-up reminders asked for under a result, and the link of a follow-up check to the one
it follows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits; SQLite auto-increments only a column declared exactly INTEGER.
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_FK = "fk_cases_follow_up_of_cases"


def upgrade() -> None:
    # Not batch mode: recreating `cases` would lose 0007's expression index. SQLite adds a
    # column with its REFERENCES clause in place (a nullable one), which Alembic does not render.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE cases ADD COLUMN follow_up_of INTEGER "
            f"CONSTRAINT {LINK_FK} REFERENCES cases (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("cases", sa.Column("follow_up_of", BIGINT, nullable=True))
        op.create_foreign_key(
            LINK_FK, "cases", "cases", ["follow_up_of"], ["id"], ondelete="SET NULL"
        )
    op.create_index(op.f("ix_cases_follow_up_of"), "cases", ["follow_up_of"], unique=False)

    op.create_table(
        "reminders",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("chat_id", BIGINT, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_days", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_reminders_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(op.f("ix_reminders_case_id"), "reminders", ["case_id"], unique=True)
    op.create_index("ix_reminders_due_at", "reminders", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reminders_due_at", table_name="reminders")
    op.drop_index(op.f("ix_reminders_case_id"), table_name="reminders")
    op.drop_table("reminders")
    op.drop_index(op.f("ix_cases_follow_up_of"), table_name="cases")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(LINK_FK, "cases", type_="foreignkey")
    # SQLite (3.35+) drops a column that only a REFERENCES clause of its own names.
    op.drop_column("cases", "follow_up_of")
