"""Fair-use marks: a keyed hash and a time, nothing else; kept 24 hours; the key kept for good."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa
from sqlalchemy import inspect, select

from bot.db import fair_use, state
from bot.db.erasure import erase_user
from bot.db.migrate import upgrade_to_head
from bot.db.models import FairUseMark
from bot.db.session import create_engine, create_sessionmaker
from tests.db.helpers import Sessions, accept_terms, case_with_photos

USER = 7_000_000_001
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


async def test_a_mark_carries_no_telegram_id(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await fair_use.record_submission(session, USER, now=T0)
        columns = await session.run_sync(
            lambda s: [c["name"] for c in inspect(s.connection()).get_columns("fair_use_marks")]
        )
        (mark,) = (await session.execute(select(FairUseMark))).scalars().all()
        key = bytes.fromhex(await state.get(session, fair_use.KEY_NAME) or "")
    assert sorted(columns) == ["id", "person_hash", "submitted_at"]
    assert str(USER) not in mark.person_hash
    # The hash of the id under the bot's own key: the same person always gives the same mark,
    # and without the key nobody can tell whose it is.
    assert mark.person_hash == fair_use.person_hash(key, USER)
    assert mark.person_hash != fair_use.person_hash(b"another key", USER)
    assert len(key) == 32


async def test_marks_are_counted_per_person_and_survive_erasure(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    await case_with_photos(sessions, USER, 1)
    async with sessions.begin() as session:
        await fair_use.record_submission(session, USER, now=T0)
        await fair_use.record_submission(session, USER, now=T0 + dt.timedelta(minutes=5))
        await fair_use.record_submission(session, USER + 1, now=T0)
    async with sessions.begin() as session:
        await erase_user(session, USER, chat_type="private")
    async with sessions() as session:
        mine = await fair_use.submission_times(session, USER, since=T0 - dt.timedelta(hours=1))
        theirs = await fair_use.submission_times(session, USER + 1, since=T0)
        later = await fair_use.submission_times(session, USER, since=T0 + dt.timedelta(minutes=1))
    assert mine == [T0, T0 + dt.timedelta(minutes=5)]
    assert theirs == [T0]
    assert later == [T0 + dt.timedelta(minutes=5)]


async def test_marks_older_than_24_hours_disappear(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await fair_use.record_submission(session, USER, now=T0)
        await fair_use.record_submission(session, USER + 1, now=T0 + dt.timedelta(hours=2))
    async with sessions.begin() as session:
        # The next check sent, by anyone, deletes what has expired.
        await fair_use.record_submission(
            session, USER + 2, now=T0 + dt.timedelta(hours=24, seconds=1)
        )
    async with sessions() as session:
        left = (await session.execute(select(FairUseMark.submitted_at))).scalars().all()
    assert sorted(left) == [T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=24, seconds=1)]
    async with sessions.begin() as session:
        # And so does the bot's periodic clean-up when nobody sends anything.
        assert await fair_use.forget_expired(session, now=T0 + dt.timedelta(hours=27)) == 1


async def test_the_key_is_made_once_and_kept(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        assert await state.get(session, fair_use.KEY_NAME) is None
        first = await fair_use.ensure_key(session)
    async with sessions.begin() as session:
        assert await fair_use.ensure_key(session) == first


async def test_the_upgrade_marks_the_checks_of_the_last_24_hours(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head_at, database_url, "0003")
    engine = create_engine(database_url)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    try:
        async with engine.begin() as connection:
            for user_id, telegram_id in ((1, USER), (2, USER + 1)):
                await connection.execute(
                    sa.text(
                        "INSERT INTO users (id, telegram_user_id, first_seen, last_seen) "
                        "VALUES (:id, :tg, :t, :t)"
                    ),
                    {"id": user_id, "tg": telegram_id, "t": _stored(recent, database_url)},
                )
            for number, (user_id, when) in enumerate(((1, recent), (1, old), (2, None)), 1):
                await connection.execute(
                    sa.text(
                        "INSERT INTO cases (id, public_id, user_id, status, subject, attempts, "
                        "step, editing, created_at, updated_at, submitted_at) VALUES (:id, :p, "
                        ":u, 'completed', 'own', 1, 'subject', false, :t, :t, :s)"
                    ),
                    {
                        "id": number,
                        "p": f"00000000-0000-0000-0000-00000000000{number}",
                        "u": user_id,
                        "t": _stored(recent, database_url),
                        "s": None if when is None else _stored(when, database_url),
                    },
                )
        await asyncio.to_thread(upgrade_to_head, database_url)
        async with create_sessionmaker(engine)() as session:
            since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
            mine = await fair_use.submission_times(session, USER, since=since)
            theirs = await fair_use.submission_times(session, USER + 1, since=since)
    finally:
        await engine.dispose()
    assert len(mine) == 1 and abs(mine[0] - recent) < dt.timedelta(seconds=1)
    assert theirs == []


def upgrade_to_head_at(url: str, revision: str) -> None:
    from alembic import command

    from bot.db.migrate import alembic_config

    command.upgrade(alembic_config(url), revision)


def _stored(when: dt.datetime, url: str) -> object:
    # As the bot stores times: naive UTC in SQLite, with the zone in PostgreSQL.
    return when.replace(tzinfo=None) if url.startswith("sqlite") else when
