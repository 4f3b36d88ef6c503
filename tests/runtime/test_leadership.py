"""A leader acts only while its lease holds: after that, nothing reaches Telegram or commits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from telegram import Bot

from bot.db.database import Database
from bot.db.models import Base, Lease
from bot.runtime.leadership import (
    LeaderRequest,
    Leadership,
    LeaseKeeper,
    NotLeading,
    Role,
    guard_commits,
)
from tests.fakes.plugin import until
from tests.fakes.telegram_server import FakeTelegram

LEASE_S = 0.4


def leading(lease_s: float = LEASE_S) -> Leadership:
    leadership = Leadership("this-process", lease_s)
    leadership.renewed(time.monotonic())
    return leadership


async def test_a_leader_that_could_not_renew_stops_before_its_lease_ends_and_for_good() -> None:
    leadership = leading()
    lapsed: list[str] = []
    leadership.when_lapsed(lambda: lapsed.append(leadership.reason))
    renewed_at = time.monotonic()
    assert leadership.role is Role.LEADER and leadership.leads()
    leadership.check()
    await until(lambda: not leadership.leads(), "the leader's own deadline", timeout=5)
    # Before the database would let another process take the lease (LEASE_S after the renewal).
    assert time.monotonic() < renewed_at + LEASE_S
    with pytest.raises(NotLeading):
        leadership.check()
    assert leadership.role is Role.LAPSED
    assert lapsed == ["its lease ran out before it could renew it"]
    # A renewal that comes late (the process was frozen) gives nothing back.
    assert leadership.renewed(time.monotonic()) is False
    assert not leadership.leads() and leadership.role is Role.LAPSED
    with pytest.raises(NotLeading):
        leadership.check()
    assert len(lapsed) == 1


async def test_a_standby_is_refused_without_lapsing() -> None:
    standby = Leadership("this-process", LEASE_S)
    with pytest.raises(NotLeading):
        standby.check()
    assert standby.role is Role.STANDBY
    assert standby.renewed(time.monotonic()) is True
    assert standby.role is Role.LEADER


async def test_no_request_reaches_telegram_once_the_leadership_lapsed(
    fake_telegram: FakeTelegram,
) -> None:
    leadership = leading(lease_s=60)
    bot = Bot(
        fake_telegram.token,
        base_url=fake_telegram.base_url,
        request=LeaderRequest(leadership),
        get_updates_request=LeaderRequest(leadership),
    )
    async with bot:  # getMe
        assert (await bot.get_me()).is_bot
        leadership.lapse("another process took the lease")
        with pytest.raises(NotLeading):
            await bot.send_message(12345, "hello")
        with pytest.raises(NotLeading):
            await bot.get_updates(timeout=0)
    assert fake_telegram.method_counts.get("getMe") == 2
    assert fake_telegram.method_counts.get("sendMessage", 0) == 0
    assert fake_telegram.method_counts.get("getUpdates", 0) == 0


def lease_rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Lease)) or 0)


def add_lease(session: Session, name: str) -> None:
    session.add(Lease(name=name))


async def test_a_unit_of_work_of_a_lapsed_leader_is_rolled_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    leadership = leading(lease_s=60)
    async with Database.open(url) as database:
        await database.run_on_connection(Base.metadata.create_all)
        guard_commits(database, leadership)
        await database.run(add_lease, "written-while-leading")
        leadership.lapse("another process took the lease")
        with pytest.raises(NotLeading):
            await database.run(add_lease, "written-after")
    async with Database.open(url) as other:
        assert await other.run(lease_rows) == 1


async def test_a_keeper_that_cannot_reach_its_database_never_leads_and_says_so() -> None:
    standby = Leadership("this-process", LEASE_S)
    # Nothing listens on port 9 of loopback (discard): every try fails at once.
    keeper = LeaseKeeper(standby, "postgresql+asyncpg://postgres@127.0.0.1:9/postgres")
    keeper.start()
    try:
        await until(lambda: standby.database_ok is False, "a failed try at the lease", timeout=10)
    finally:
        keeper.stop(step_down=True)
    assert standby.role is Role.STANDBY and not standby.leads()
