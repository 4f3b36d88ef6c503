"""A fair-use limit in words: which one, and when the person may send again."""

from __future__ import annotations

import datetime as dt
import math

from bot.db.base import utcnow
from bot.db.fair_use import LimitReached
from bot.i18n.texts import raw, text


def when_text(retry_at: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "in about 25 minutes", or for longer waits the hours and the UTC time."""
    seconds = max(0.0, (retry_at - (now or utcnow())).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return text("when_one_minute")
    if minutes < 90:
        return text("when_minutes", minutes=minutes)
    return text("when_hours", hours=math.ceil(minutes / 60), time=retry_at.strftime("%H:%M UTC"))


def limit_text(reached: LimitReached, *, at_submission: bool) -> str:
    key = "fair_use_limit_hour" if reached.period == "hour" else "fair_use_limit_day"
    # `when_text` is already safe HTML built from messages, hence `raw`.
    when = raw("fair_use_when", when=when_text(reached.retry_at))
    body = f"{text(key, limit=reached.limit)} {when}"
    if at_submission:
        body += "\n\n" + text("fair_use_case_kept")
    return body
