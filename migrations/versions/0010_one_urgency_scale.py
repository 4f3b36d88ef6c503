"""One urgency scale: the advice tiers stored on clinic posts and decisions get their new names.

The old tiers were "see a dermatologist soon" (within two weeks, for possible cancer) and "see a
doctor" (in the next few days, for infections): the new scale names them by how soon to act.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMED = {"see_dermatologist_soon": "within_2_weeks", "see_doctor": "within_days"}
TABLES = ("triage_posts", "triage_decisions")


def _rename(mapping: dict[str, str]) -> None:
    for table in TABLES:
        for old, new in mapping.items():
            op.execute(
                sa.text(
                    f"UPDATE {table} SET advice_tier = :new WHERE advice_tier = :old"
                ).bindparams(old=old, new=new)
            )


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    # The two new tiers had no old name: the nearest old one (urgent care was "see a doctor",
    # "if no improvement" was self-care).
    _rename({"urgent_care": "within_days", "if_no_improvement": "self_care"})
    _rename({new: old for old, new in RENAMED.items()})
