"""Fair-use marks: a keyed hash and a time, nothing else; kept 24 hours; the key kept for good."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa
from sqlalchemy import Connection, inspect, select
from sqlalchemy.orm import Session

from bot.db import fair_use, state
from bot.db.database import Database
from bot.db.erasure import erase_user
from bot.db.migrate import upgrade_to_head
from bot.db.models import FairUseMark
from tests.db.helpers import accept_terms, case_with_photos

USER = 7_000_000_001
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


async def test_a_mark_carries_no_telegram_id(database: Database) -> None:

    def record(session: Session) -> tuple[list[str], FairUseMark, bytes]:
        fair_use.record_submission(session, USER, now=T0)
        columns = [c["name"] for c in inspect(session.connection()).get_columns("fair_use_marks")]
        (mark,) = session.scalars(select(FairUseMark)).all()
        return columns, mark, bytes.fromhex(state.get(session, fair_use.KEY_NAME) or "")

    columns, mark, key = await database.run(record)
    assert sorted(columns) == ["id", "person_hash", "submitted_at"]
    assert str(USER) not in mark.person_hash
    # The hash of the id under the bot's own key: the same person always gives the same mark,
    # and without the key nobody can tell whose it is.
    assert mark.person_hash == fair_use.person_hash(key, USER)
    assert mark.person_hash != fair_use.person_hash(b"another key", USER)
    assert len(key) == 32


async def test_marks_are_counted_per_person_and_survive_erasure(database: Database) -> None:
    await accept_terms(database, USER)
    await case_with_photos(database, USER, 1)
    await database.run(fair_use.record_submission, USER, now=T0)
    await database.run(fair_use.record_submission, USER, now=T0 + dt.timedelta(minutes=5))
    await database.run(fair_use.record_submission, USER + 1, now=T0)
    await database.run(erase_user, USER, chat_type="private")
    mine = await database.run(fair_use.submission_times, USER, since=T0 - dt.timedelta(hours=1))
    theirs = await database.run(fair_use.submission_times, USER + 1, since=T0)
    later = await database.run(fair_use.submission_times, USER, since=T0 + dt.timedelta(minutes=1))
    assert mine == [T0, T0 + dt.timedelta(minutes=5)]
    assert theirs == [T0]
    assert later == [T0 + dt.timedelta(minutes=5)]


async def test_marks_older_than_24_hours_disappear(database: Database) -> None:
    await database.run(fair_use.record_submission, USER, now=T0)
    await database.run(fair_use.record_submission, USER + 1, now=T0 + dt.timedelta(hours=2))
    # The next check sent, by anyone, deletes what has expired.
    await database.run(
        fair_use.record_submission, USER + 2, now=T0 + dt.timedelta(hours=24, seconds=1)
    )
    left = await database.run(
        lambda session: session.scalars(select(FairUseMark.submitted_at)).all()
    )
    assert sorted(left) == [T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=24, seconds=1)]
    # And so does the bot's periodic clean-up when nobody sends anything.
    assert await database.run(fair_use.forget_expired, now=T0 + dt.timedelta(hours=27)) == 1


async def test_the_key_is_made_once_and_kept(database: Database) -> None:
    assert await database.run(state.get, fair_use.KEY_NAME) is None
    first = await database.run(fair_use.ensure_key)
    assert await database.run(fair_use.ensure_key) == first


async def test_the_upgrade_marks_the_checks_of_the_last_24_hours(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head_at, database_url, "0003")
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)

    def before_the_upgrade(connection: Connection) -> None:
        for user_id, telegram_id in ((1, USER), (2, USER + 1)):
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, telegram_user_id, first_seen, last_seen) "
                    "VALUES (:id, :tg, :t, :t)"
                ),
                {"id": user_id, "tg": telegram_id, "t": _stored(recent, database_url)},
            )
        for number, (user_id, when) in enumerate(((1, recent), (1, old), (2, None)), 1):
            connection.execute(
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

    async with Database.open(database_url) as database:
        await database.run_on_connection(before_the_upgrade)
        await asyncio.to_thread(upgrade_to_head, database_url)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
        mine = await database.run(fair_use.submission_times, USER, since=since)
        theirs = await database.run(fair_use.submission_times, USER + 1, since=since)
    assert len(mine) == 1 and abs(mine[0] - recent) < dt.timedelta(seconds=1)
    assert theirs == []


def upgrade_to_head_at(url: str, revision: str) -> None:
    from alembic import command

    from bot.db.migrate import alembic_config

    command.upgrade(alembic_config(url), revision)


def _stored(when: dt.datetime, url: str) -> object:
    # As the bot stores times: naive UTC in SQLite, with the zone in PostgreSQL.
    return when.replace(tzinfo=None) if url.startswith("sqlite") else when
