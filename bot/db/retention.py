"""Retention: finished cases are kept only as long as needed, then purged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import Case, CasePhoto, CaseStatus


def _expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    finished_at = func.coalesce(Case.completed_at, Case.failed_at, Case.cancelled_at)
    return or_(
        and_(
            Case.status.in_([CaseStatus.COMPLETED, CaseStatus.FAILED, CaseStatus.CANCELLED]),
            finished_at < cutoff,
        ),
        # A case still being collected after the whole retention period was abandoned; its
        # photo references and answers are personal data with no use left.
        and_(Case.status == CaseStatus.COLLECTING, Case.updated_at < cutoff),
    )


async def purge_expired_cases(
    session: AsyncSession,
    days: int,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> int:
    """Delete finished (and abandoned) cases older than `days`; returns how many (would) go.

    Cases being sent or waiting for a retry are never purged.
    """
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    expired_ids = select(Case.id).where(_expired(cutoff))
    count = int(await session.scalar(select(func.count()).select_from(expired_ids.subquery())) or 0)
    if dry_run or count == 0:
        return count
    await session.execute(
        delete(CasePhoto)
        .where(CasePhoto.case_id.in_(expired_ids.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Case).where(_expired(cutoff)).execution_options(synchronize_session=False)
    )
    return count
