"""Initial schema: users, append-only consent records, cases and their photo references.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits; SQLite auto-increments only a column declared exactly INTEGER.
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("telegram_user_id", BIGINT, nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "accepted",
                "declined",
                "withdrawn",
                name="consent_decision",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("terms_version", sa.String(length=32), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("chat_type", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_records_person_latest", ["telegram_user_id", "id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("telegram_user_id", BIGINT, nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_users_telegram_user_id")),
    )
    op.create_table(
        "cases",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", BIGINT, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "collecting",
                "submitted",
                "pending_retry",
                "completed",
                "failed",
                "cancelled",
                name="case_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "subject",
            sa.Enum(
                "own",
                "other_with_permission",
                name="case_subject",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("patient_ref", sa.String(length=40), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("diagnosis", sa.JSON(), nullable=True),
        sa.Column("server", sa.String(length=255), nullable=True),
        sa.Column("latency_s", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consent_record_id", BIGINT, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_record_id"],
            ["consent_records.id"],
            name=op.f("fk_cases_consent_record_id_consent_records"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cases_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("public_id", name=op.f("uq_cases_public_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cases_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_cases_one_collecting_per_user",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("status = 'collecting'"),
            postgresql_where=sa.text("status = 'collecting'"),
        )

    op.create_table(
        "case_photos",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("case_id", BIGINT, nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("file_unique_id", sa.String(length=64), nullable=False),
        sa.Column("file_size", BIGINT, nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position BETWEEN 1 AND 5", name=op.f("ck_case_photos_position_range")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_photos_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_photos")),
        sa.UniqueConstraint(
            "case_id", "file_unique_id", name=op.f("uq_case_photos_case_id_file_unique_id")
        ),
        sa.UniqueConstraint("case_id", "position", name=op.f("uq_case_photos_case_id_position")),
    )


def downgrade() -> None:
    op.drop_table("case_photos")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_cases_one_collecting_per_user",
            sqlite_where=sa.text("status = 'collecting'"),
            postgresql_where=sa.text("status = 'collecting'"),
        )
        batch_op.drop_index(batch_op.f("ix_cases_user_id"))
        batch_op.drop_index("ix_cases_status_next_attempt_at")

    op.drop_table("cases")
    op.drop_table("users")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_records_person_latest")

    op.drop_table("consent_records")
