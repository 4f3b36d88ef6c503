"""The clinic's decisions on the advice's one urgency scale (plus "Need better photos").

Clinicians decided on three levels and better photos; they now decide on the five tiers of the
advice (revision 0010 renamed the advice tiers), so that a decision and the bot's advice compare
by how soon each says to act. Stored decisions, on clinic posts and in the decision records,
move to the tier that says what the person was told:

- `urgent` -> `within_2_weeks`: its button read "Urgent: within 2 weeks" and the person was
  asked to be seen within two weeks, exactly that tier.
- `routine` -> `if_no_improvement`: "a routine appointment in the coming weeks", with no time
  pressure. It must stay less urgent than `urgent` (merging the two into `within_2_weeks` would
  make past decisions sooner than the clinician said and lose their difference in the triage
  report), and more than self-care; the tier between is "a doctor if it does not improve in 2-4
  weeks", the nearest time frame on the new scale.
- `self_care` and `better_photos` keep their names and meaning.

The decision column is a VARCHAR with a CHECK of the allowed words; the CHECK first allows the
old and new words together, the rows are moved, then only the new ones remain.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words as they were and are when this revision was written (a revision must not change
# when bot.db.models.TriageDecisionKind does later).
OLD = ("self_care", "routine", "urgent", "better_photos")
NEW = (
    "urgent_care",
    "within_days",
    "within_2_weeks",
    "if_no_improvement",
    "self_care",
    "better_photos",
)
MOVED = {"urgent": "within_2_weeks", "routine": "if_no_improvement"}
# Back to the three levels: every sooner tier was "urgent", the tier between was "routine".
MOVED_BACK = {
    "urgent_care": "urgent",
    "within_days": "urgent",
    "within_2_weeks": "urgent",
    "if_no_improvement": "routine",
}
TABLES = {"triage_posts": True, "triage_decisions": False}  # table: decision nullable


def _kind(words: Sequence[str]) -> sa.Enum:
    return sa.Enum(
        *words, name="triage_decision", native_enum=False, create_constraint=True, length=24
    )


def _allow(table: str, nullable: bool, before: Sequence[str], after: Sequence[str]) -> None:
    # Batch mode: SQLite rebuilds the table with the new CHECK; PostgreSQL alters it in place.
    with op.batch_alter_table(table) as batch:
        batch.alter_column(
            "decision",
            existing_type=_kind(before),
            type_=_kind(after),
            existing_nullable=nullable,
        )


def _move(mapping: dict[str, str], before: Sequence[str], after: Sequence[str]) -> None:
    both = tuple(dict.fromkeys((*before, *after)))
    for table, nullable in TABLES.items():
        _allow(table, nullable, before, both)
        for old, new in mapping.items():
            op.execute(
                sa.text(f"UPDATE {table} SET decision = :new WHERE decision = :old").bindparams(
                    old=old, new=new
                )
            )
        _allow(table, nullable, both, after)


def upgrade() -> None:
    _move(MOVED, OLD, NEW)


def downgrade() -> None:
    _move(MOVED_BACK, NEW, OLD)
