"""The person's profile: Telegram user id, language, first and last seen."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import User


async def touch_user(
    session: AsyncSession,
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
    await session.execute(
        insert(User)
        .values(telegram_user_id=telegram_user_id, language=language, first_seen=now, last_seen=now)
        .on_conflict_do_nothing(index_elements=[User.telegram_user_id])
    )
    values: dict[str, object] = {"last_seen": now}
    if language:
        values["language"] = language
    user = await session.scalar(
        update(User)
        .where(User.telegram_user_id == telegram_user_id)
        .values(values)
        .returning(User)
        .execution_options(populate_existing=True)
    )
    assert user is not None
    return user


async def get_user(session: AsyncSession, telegram_user_id: int) -> User | None:
    return await session.scalar(select(User).where(User.telegram_user_id == telegram_user_id))
