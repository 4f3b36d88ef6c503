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

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import state
from bot.db.base import utcnow
from bot.db.models import FairUseMark

KEY_NAME = "fair_use_key"
# The longest period a limit counts (CASES_PER_DAY); marks older than this are deleted.
MARK_LIFETIME = dt.timedelta(hours=24)


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
