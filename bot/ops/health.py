"""/healthz: is the database reachable, what was last seen of the API, how many cases wait.

Nothing here calls the API: the servers' state is what the bot's own calls last showed
(bot/runtime/apiwatch.py). HTTP 200 when the database answers, 503 when it does not. "role" says
whether this process leads or stands by (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.db.models import PENDING_STATUSES, Case
from bot.runtime.leadership import Leadership, Role
from bot.services.container import Services

log = logging.getLogger(__name__)

DB_PROBE_TIMEOUT_S = 3.0


def pending_count(session: Session) -> int:
    """Cases being sent or waiting for a retry."""
    count = session.scalar(
        select(func.count()).select_from(Case).where(Case.status.in_(PENDING_STATUSES))
    )
    return int(count or 0)


def _probe(session: Session) -> int:
    """The database answers; then how many cases wait."""
    session.execute(text("SELECT 1"))
    return pending_count(session)


async def health_report(
    services: Services | None, leadership: Leadership
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the JSON body of /healthz: 200 for a leader whose database answers,
    and for a standby whose last try at the lease reached the database."""
    role = leadership.role
    if role is Role.STANDBY:
        reached = leadership.database_ok
        database = {True: "ok", False: "unreachable", None: "unknown"}[reached]
        return (200 if reached else 503), {"status": "standby", "role": role, "database": database}
    if role is Role.LAPSED:
        return 503, {"status": "stopping", "role": role, "reason": leadership.reason}
    if services is None:
        return 503, {"status": "starting", "role": role, "database": "unknown"}
    body: dict[str, Any] = {"status": "ok", "role": role, "database": "ok", "pending_cases": None}
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT_S):
            body["pending_cases"] = await services.database.run(_probe)
    except Exception as exc:  # any failure of the probe means "not healthy", with the reason
        log.warning("health probe: database unreachable: %s", type(exc).__name__)
        body["status"], body["database"] = "unhealthy", f"unreachable ({type(exc).__name__})"
    body["api_servers"] = services.api_watch.snapshot()
    body["api_queue"] = {
        "running": services.api_queue.running,
        "waiting": services.api_queue.waiting,
        "limit": services.api_queue.concurrency,
    }
    return (200 if body["database"] == "ok" else 503), body


async def refresh_gauges(services: Services) -> None:
    """Gauges read at scrape time: stored pending cases and the API queue."""
    metrics = services.metrics
    metrics.api_waiting.set(services.api_queue.waiting)
    metrics.api_running.set(services.api_queue.running)
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT_S):
            metrics.cases_pending.set(await services.database.run(pending_count))
    except Exception as exc:  # the scrape still answers, with the last known value
        log.warning("metrics: could not count pending cases: %s", type(exc).__name__)
