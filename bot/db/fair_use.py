"""Fair-use marks: when a person sent checks, without keeping who they are.

The limits (`limit_reached`) count a person's checks of the last 24 hours. Counting their cases
would forget everything at /delete, which erases the cases, and a person could erase and start
again at will. So each check sent leaves a mark with only a keyed hash (HMAC-SHA256) of the
sender's Telegram id and the time. The key is a secret the bot makes at its first start and keeps
in `bot_state`: without it a hash cannot be matched to an id, even by trying every id. Marks are
deleted once older than the 24-hour window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import state
from bot.db.base import utcnow
from bot.db.models import FairUseMark

KEY_NAME = "fair_use_key"
# The longest period a limit counts (CASES_PER_DAY); marks older than this are deleted.
MARK_LIFETIME = dt.timedelta(hours=24)
HOUR = dt.timedelta(hours=1)
DAY = MARK_LIFETIME


def person_hash(key: bytes, telegram_user_id: int) -> str:
    return hmac.new(key, str(telegram_user_id).encode("ascii"), hashlib.sha256).hexdigest()


def ensure_key(session: Session) -> bytes:
    """The bot's fair-use key, made (once, for good) if there is none yet."""
    return bytes.fromhex(state.setdefault(session, KEY_NAME, secrets.token_hex(32)))


def record_submission(
    session: Session, telegram_user_id: int, *, now: dt.datetime | None = None
) -> None:
    """Mark one check sent by the person now, and delete the marks that have expired."""
    now = now or utcnow()
    key = ensure_key(session)
    forget_expired(session, now=now)
    session.add(FairUseMark(person_hash=person_hash(key, telegram_user_id), submitted_at=now))
    session.flush()


def submission_times(
    session: Session, telegram_user_id: int, *, since: dt.datetime
) -> list[dt.datetime]:
    """When the person sent checks since `since`, oldest first."""
    key = state.get(session, KEY_NAME)
    if key is None:  # no check was ever sent on this database
        return []
    found = session.scalars(
        select(FairUseMark.submitted_at)
        .where(
            FairUseMark.person_hash == person_hash(bytes.fromhex(key), telegram_user_id),
            FairUseMark.submitted_at >= since,
        )
        .order_by(FairUseMark.submitted_at)
    )
    return list(found)


def forget_expired(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete marks older than MARK_LIFETIME; how many."""
    cutoff = (now or utcnow()) - MARK_LIFETIME
    result = session.execute(delete(FairUseMark).where(FairUseMark.submitted_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class LimitReached:
    limit: int
    period: str  # "hour" or "day"
    retry_at: dt.datetime


def limit_reached(
    session: Session,
    telegram_user_id: int,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> LimitReached | None:
    """Whether the person may submit another case now; if not, which limit and until when."""
    now = now or utcnow()
    day = submission_times(session, telegram_user_id, since=now - DAY)
    hour = [when for when in day if when >= now - HOUR]
    reached = [
        LimitReached(limit, period, times[len(times) - limit] + window)
        for limit, period, times, window in (
            (settings.cases_per_day, "day", day, DAY),
            (settings.cases_per_hour, "hour", hour, HOUR),
        )
        if len(times) >= limit
    ]
    return max(reached, key=lambda r: r.retry_at) if reached else None
