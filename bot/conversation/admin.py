"""/stats for the operators named in ADMIN_USER_IDS; nobody else can tell the command exists.

The command is registered with a user filter, so for anyone else the update falls through to the
unknown-command handler and gets exactly its answer (bot/routing.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import filters

from bot.config import Settings
from bot.conversation.common import BotContext, chat_id_of
from bot.db.base import utcnow
from bot.db.models import PENDING_STATUSES, Case, CaseStatus
from bot.i18n.texts import raw, text

STATE_ICON = {"up": "🟢", "down": "🔴", "unknown": "⚪"}


def operators(settings: Settings) -> filters.User:
    """Matches only the operators' user ids (nobody when none is configured)."""
    return filters.User(user_id=settings.admin_user_ids, allow_empty=False)


def day_counts(session: Session, since: dt.datetime) -> dict[str, int]:
    def count(condition: ColumnElement[bool]) -> int:
        value = session.scalar(select(func.count()).select_from(Case).where(condition))
        return int(value or 0)

    return {
        "started": count(Case.created_at >= since),
        "submitted": count(Case.submitted_at >= since),
        "completed": count(Case.completed_at >= since),
        "failed": count(Case.failed_at >= since),
        "pending": count(Case.status.in_(PENDING_STATUSES)),
        "parked": count(Case.status == CaseStatus.PENDING_RETRY),
    }


async def stats(update: Update, context: BotContext) -> None:
    """/stats: today's cases (UTC), what waits, the API queue and the servers' last state."""
    services = context.services
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = await services.database.run(day_counts, midnight)
    servers = []
    for server in services.api_watch.snapshot():
        detail = f" · {server['detail']}" if server["detail"] else ""
        when = f" ({server['seen_at'][11:16]} UTC)" if server["seen_at"] else ""
        servers.append(
            text(
                "stats_server",
                icon=STATE_ICON[server["state"]],
                server=server["server"],
                state=server["state"] + when,
                detail=detail,
            )
        )
    body = raw(
        "stats",
        since=midnight.strftime("%Y-%m-%d 00:00 UTC"),
        running=services.api_queue.running,
        waiting=services.api_queue.waiting,
        servers="\n".join(servers),
        **counts,
    )
    await context.bot.send_message(chat_id_of(update), body)
