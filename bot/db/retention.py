"""Retention: finished cases are kept only as long as needed, then purged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.clinic_copies import record_copies_of
from bot.db.erasure import delete_cases
from bot.db.models import Case, CaseStatus, ClinicCopyReason, case_finished_at

FINISHED = (CaseStatus.COMPLETED, CaseStatus.FAILED, CaseStatus.CANCELLED)
UNFINISHED = tuple(status for status in CaseStatus if status not in FINISHED)


def _expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            # "Not unfinished" selects the finished cases as "finished" would, but no index can
            # serve it: SQLite then takes the index of the moment a case ended, instead of the
            # status index, which would match nearly every case.
            Case.status.not_in(UNFINISHED),
            case_finished_at < cutoff,
        ),
        # A case still being collected after the whole retention period was abandoned; its
        # photo references and answers are personal data with no use left.
        and_(Case.status == CaseStatus.COLLECTING, Case.updated_at < cutoff),
    )


def purge_expired_cases(
    session: Session,
    days: int,
    *,
    clinic_chat_id: int | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> int:
    """Delete finished (and abandoned) cases older than `days`; returns how many (would) go.

    Cases being sent or waiting for a retry are never purged. With a clinic group, the ids of
    the cases' messages there are queued for deletion first (bot/db/clinic_copies.py).
    Idempotent: purging again finds nothing more.
    """
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    expired_ids = select(Case.id).where(_expired(cutoff))
    count = int(session.scalar(select(func.count()).select_from(expired_ids.subquery())) or 0)
    if dry_run or count == 0:
        return count
    ids = expired_ids.scalar_subquery()
    record_copies_of(session, ids, ClinicCopyReason.EXPIRED, chat_id=clinic_chat_id, now=now)
    return delete_cases(session, ids)
