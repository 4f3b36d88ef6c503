"""The person's profile: Telegram user id, language, first and last seen.

`language` is the language the bot speaks to the person: taken from their Telegram setting when
the profile is created, changed only by their own choice (/language) afterwards, so a Telegram
client in another language cannot switch it under them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import User


def touch_user(
    session: Session,
    telegram_user_id: int,
    language: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> User:
    """Create or refresh the person's profile and lock its row until the unit of work ends.

    Insert-or-ignore, then update: safe when two updates from one new person arrive at once,
    and the row lock serialises everything done for this person in concurrent sessions.
    """
    now = now or utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(User)
        .values(telegram_user_id=telegram_user_id, language=language, first_seen=now, last_seen=now)
        .on_conflict_do_nothing(index_elements=[User.telegram_user_id])
    )
    values: dict[str, object] = {"last_seen": now}
    if language:
        values["language"] = func.coalesce(User.language, language)
    user = session.scalar(
        update(User)
        .where(User.telegram_user_id == telegram_user_id)
        .values(values)
        .returning(User)
        .execution_options(populate_existing=True)
    )
    assert user is not None
    return user


def language_of_user(session: Session, telegram_user_id: int) -> str | None:
    """The stored language of the person, None if unknown (no profile yet)."""
    language: str | None = session.scalar(
        select(User.language).where(User.telegram_user_id == telegram_user_id)
    )
    return language


def set_user_language(session: Session, telegram_user_id: int, language: str) -> User:
    """The person chose `language` (/language): store it, creating the profile if needed."""
    user = touch_user(session, telegram_user_id)
    user.language = language
    session.flush()
    return user
