"""Work claimed with a lease: the one way a job takes a row to act on.

A job does not scan and act: it claims. A claim is one short statement that sets the row's
`claimed_by` (the worker: `worker_id()`, one per process) and `claimed_until`, and only on a
row that no other worker holds now; the worker acts outside the transaction and then records
the outcome, which releases the row. A worker that dies (or freezes) keeps its rows only
until `claimed_until`: then another may take them again.

PostgreSQL: the candidates are read `FOR UPDATE SKIP LOCKED`, so two workers claiming at once
each get other rows instead of waiting for one another, and a row whose claim another worker
committed meanwhile is read again and skipped. SQLite has one writer at a time: the claim's
transaction either sees the other claim or is refused by SQLite and run again (bot/db/database.py).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import WORKER_ID_MAX, Case, ClinicCopy, Lease, Reminder, TriagePost


def worker_id() -> str:
    """A name for this process, unique among the bot's processes (host, pid and a random tag,
    so a restarted process with the same pid is another worker)."""
    tail = f":{os.getpid()}:{secrets.token_hex(4)}"
    return socket.gethostname()[: WORKER_ID_MAX - len(tail)] + tail


@dataclass(frozen=True, slots=True)
class Claim:
    """Who claims (a worker) and for how long a claim of theirs holds."""

    holder: str
    lease: dt.timedelta


def takeable(model: Any, holder: str, now: dt.datetime) -> ColumnElement[bool]:
    """Rows `holder` may claim at `now`: free, expired (a claim until `now` has run out), or
    its own already."""
    return or_(
        model.claimed_until.is_(None), model.claimed_until <= now, model.claimed_by == holder
    )


def claim_rows(
    session: Session,
    model: Any,
    *conditions: ColumnElement[bool],
    order_by: Sequence[Any],
    holder: str,
    lease: dt.timedelta,
    limit: int,
    now: dt.datetime | None = None,
) -> list[int]:
    """Claim up to `limit` rows of `model` meeting `conditions` for `holder` until `now + lease`,
    in `order_by` order; their ids. Rows another worker holds (or is claiming) are skipped."""
    now = now or utcnow()
    candidates = (
        select(model.id)
        .where(*conditions, takeable(model, holder, now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(of=model, skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if ids:
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(claimed_by=holder, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return ids


def claim_row(
    session: Session,
    model: Any,
    *conditions: ColumnElement[bool],
    holder: str,
    lease: dt.timedelta,
    now: dt.datetime | None = None,
) -> bool:
    """Claim (or renew) the one row meeting `conditions` for `holder`; False when another
    worker holds it, or no row meets them."""
    now = now or utcnow()
    result = session.execute(
        update(model)
        .where(*conditions, takeable(model, holder, now))
        .values(claimed_by=holder, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew(
    session: Session,
    model: Any,
    *conditions: ColumnElement[bool],
    holder: str,
    lease: dt.timedelta,
    now: dt.datetime | None = None,
) -> int:
    """Push back the lease of the rows `holder` holds that meet `conditions` (work still in
    hand); how many. A row taken by another worker meanwhile stays theirs."""
    now = now or utcnow()
    result = session.execute(
        update(model)
        .where(*conditions, model.claimed_by == holder)
        .values(claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(row: Any) -> None:
    """The work on a loaded, locked row is done (or handed back): anyone may take it again."""
    row.claimed_by = None
    row.claimed_until = None


def held_by_other(row: Any, holder: str | None, now: dt.datetime) -> bool:
    """Whether a loaded row is under a live claim of a worker other than `holder` (None: no
    worker is asking, as in the command line's single steps, which claims do not concern)."""
    if holder is None or row.claimed_by is None or row.claimed_by == holder:
        return False
    return row.claimed_until is not None and row.claimed_until > now


def release_all(session: Session, holder: str) -> int:
    """A worker that stops gives back everything it holds, so that the next process (a
    restart) takes the work over at once instead of after the claims run out; how many."""
    return _release(session, lambda model: model.claimed_by == holder)


def take_over_claims(session: Session, leader: str) -> int:
    """Free every claim but `leader`'s, for a process that has just come to lead; how many.
    Only the leader works (bot/runtime/leadership.py), so any other claim is a previous
    leader's, which acts on nothing any more (it died, or its lease lapsed before this one
    could be taken)."""
    return _release(session, lambda model: model.claimed_by != leader)


def _release(session: Session, held: Callable[[Any], ColumnElement[bool]]) -> int:
    released = 0
    for model in (Case, TriagePost, ClinicCopy, Lease, Reminder):
        result = session.execute(
            update(model)
            # A sent reminder keeps the name of its sender and holds nothing.
            .where(held(model), model.claimed_until.is_not(None))
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        released += int(result.rowcount)  # type: ignore[attr-defined]
    return released


def take_lease(
    session: Session, name: str, claim: Claim, *, now: dt.datetime | None = None
) -> bool:
    """Take (or renew) the lease called `name` for `claim.holder`; False while another worker
    holds it. The row is made on first use."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Lease).values(name=name).on_conflict_do_nothing(index_elements=["name"]))
    return claim_row(
        session, Lease, Lease.name == name, holder=claim.holder, lease=claim.lease, now=now
    )


def give_back(session: Session, name: str, holder: str) -> None:
    """End `holder`'s lease called `name` now, so that another may take it at once."""
    session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.claimed_by == holder)
        .values(claimed_by=None, claimed_until=None)
    )
