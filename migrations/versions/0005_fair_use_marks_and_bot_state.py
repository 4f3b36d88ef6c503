"""Fair-use marks (keyed hash of the sender and the time), and the bot's own state.

The fair-use limits counted a person's cases, which /delete erases; they now count marks that
name no one (bot/db/fair_use.py). The checks of the last 24 hours get their marks here, so the
limits carry on across the upgrade; that needs the fair-use key, made here if there is none.
(The key's name and the hash are frozen copies of bot/db/fair_use.py as of this revision.)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Telegram ids exceed 32 bits; SQLite auto-increments only a column declared exactly INTEGER.
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY_NAME = "fair_use_key"
WINDOW = dt.timedelta(hours=24)

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )
    marks = op.create_table(
        "fair_use_marks",
        sa.Column("id", BIGINT, nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fair_use_marks")),
    )
    with op.batch_alter_table("fair_use_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fair_use_marks_submitted_at"), ["submitted_at"], unique=False
        )
        batch_op.create_index(
            "ix_fair_use_marks_person_submitted", ["person_hash", "submitted_at"], unique=False
        )
    _mark_recent_checks(marks)


def _mark_recent_checks(marks: sa.Table) -> None:
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    if connection.dialect.name == "sqlite":  # naive UTC there, as the bot stores it
        now = now.replace(tzinfo=None)
    cases = sa.table(
        "cases",
        sa.column("user_id", BIGINT),
        sa.column("submitted_at", sa.DateTime(timezone=True)),
    )
    users = sa.table("users", sa.column("id", BIGINT), sa.column("telegram_user_id", BIGINT))
    recent = connection.execute(
        sa.select(users.c.telegram_user_id, cases.c.submitted_at)
        .join(users, users.c.id == cases.c.user_id)
        .where(cases.c.submitted_at >= now - WINDOW)
    ).all()
    if not recent:
        return
    key = secrets.token_hex(32)
    state = sa.table(
        "bot_state",
        sa.column("key", sa.String()),
        sa.column("value", sa.Text()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    connection.execute(sa.insert(state).values(key=KEY_NAME, value=key, updated_at=now))
    secret = bytes.fromhex(key)
    op.bulk_insert(
        marks,
        [
            {
                "person_hash": hmac.new(
                    secret, str(telegram_user_id).encode("ascii"), hashlib.sha256
                ).hexdigest(),
                "submitted_at": submitted_at,
            }
            for telegram_user_id, submitted_at in recent
        ],
    )


def downgrade() -> None:
    op.drop_table("fair_use_marks")
    op.drop_table("bot_state")
