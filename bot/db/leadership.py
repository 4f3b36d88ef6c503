"""Which of the bot's processes leads (polls Telegram, runs the jobs): a lease row, by the
database's clock (docs/deployment.md says why a lease and not an advisory lock).

The leader renews its lease every few seconds; a standby tries to take it as often, and gets it
only once the leader's has run out. Times are the database server's, so the processes' own
clocks never have to agree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.claims import Claim, give_back, take_lease
from bot.db.database import with_connection
from bot.db.models import Lease

LEADER = "leader"


def database_now(session: Session) -> dt.datetime:
    """The database server's time (this process's own on SQLite, which has no server)."""
    if session.get_bind().dialect.name != "postgresql":
        return utcnow()
    now = session.scalar(select(func.now()))
    assert isinstance(now, dt.datetime)
    return now.astimezone(dt.UTC)


def lead(session: Session, claim: Claim) -> bool:
    """Take or renew the leadership for `claim.holder` until the database's now + its lease;
    False while another process leads."""
    return take_lease(session, LEADER, claim, now=database_now(session))


def step_down(session: Session, holder: str) -> None:
    """A leader that stops hands over at once, instead of after its lease has run out."""
    give_back(session, LEADER, holder)


def leases_exist(database_url: str) -> bool:
    """Whether the database has its table of leases yet (blocking; from async code, through
    `asyncio.to_thread`): a new database, or one last used by a version without leadership,
    does not."""

    def has_table(connection: Connection) -> bool:
        return inspect(connection).has_table(Lease.__tablename__)

    return with_connection(database_url, has_table)
