"""The bot's own state between starts: a few named values in `bot_state`.

For what belongs to the deployment rather than to anyone (the fair-use key), so it survives
restarts and is the same for every process on the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import BotState


def get(session: Session, key: str) -> str | None:
    return session.scalar(select(BotState.value).where(BotState.key == key))


def put(session: Session, key: str, value: str, *, now: dt.datetime | None = None) -> None:
    """Set `key` to `value` (added or replaced)."""
    row = session.get(BotState, key)
    if row is None:
        session.add(BotState(key=key, value=value, updated_at=now or utcnow()))
    elif row.value != value:
        row.value, row.updated_at = value, now or utcnow()
    session.flush()


def setdefault(session: Session, key: str, value: str) -> str:
    """The value of `key`, first set to `value` if it has none; the same for every process that
    races to set it (the first write wins, the others read it)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(BotState)
        .values(key=key, value=value, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[BotState.key])
    )
    stored = get(session, key)
    assert stored is not None
    return stored
