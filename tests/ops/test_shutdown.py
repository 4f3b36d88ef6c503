"""SIGTERM on the real process: in-flight analyses finish or are parked, nothing is lost."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.conversation.flows import WAIT, reach_summary
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm
from tests.fakes.plugin import RETRY_JOB
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.ops.process import BotProcess, bot_environment

STARTUP = 30.0


# What APScheduler logs at DEBUG when a run of the bot's retry job has ended.
RETRY_ROUND_ENDED = f'Job "{RETRY_JOB} (trigger'


def environment(
    telegram: FakeTelegram,
    api: FakeModelDerm,
    database: Path,
    grace: float,
    log_level: str = "WARNING",
) -> dict[str, str]:
    return bot_environment(
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        telegram_file_base_url=telegram.base_file_url,
        modelderm_api_urls=api.url,
        database_url=f"sqlite+aiosqlite:///{database}",
        album_quiet_s=0.3,
        retry_interval_s=0.3,
        claim_lease_s=2.0,
        retry_base_s=0.2,
        retry_max_s=1.0,
        modelderm_max_attempts=1,
        shutdown_grace_s=grace,
        log_level=log_level,
    )


def case_row(database: Path) -> tuple[str, str | None]:
    with sqlite3.connect(database) as db:
        status, delivered = db.execute("SELECT status, delivered_at FROM cases").fetchone()
    return status, delivered


def results(user: FakeUser) -> int:
    """How many results the person received (the welcome also says "AI estimate")."""
    return sum("(AI match score)" in m.text for m in user.messages)


async def send_and_wait_for_the_api(user: FakeUser, api: FakeModelDerm) -> None:
    await reach_summary(user)
    await user.press("📤 Send for analysis")
    await user.wait_for("Analysing", timeout=WAIT)
    await api.received(1, timeout=WAIT)


async def test_sigterm_parks_a_slow_analysis_and_the_restart_delivers_it_once(
    tmp_path: Path, migrated_database: Callable[[str], Path], fake_telegram: FakeTelegram
) -> None:
    database = migrated_database("bot")
    async with FakeModelDerm() as api:
        # The API never answers while the bot runs: it must stop without the answer.
        api.hold()
        env = environment(fake_telegram, api, database, grace=1.0)
        alice = FakeUser(fake_telegram, "Alice")
        bot = BotProcess(tmp_path, env)
        await bot.start()
        try:
            await send_and_wait_for_the_api(alice, api)
        except BaseException:
            await bot.stop()
            raise
        status = await bot.stop()
        assert status == 0, bot.output()
        # Not lost: the case is still stored as being sent, with its photos.
        assert case_row(database) == ("submitted", None)

        api.release()
        env = environment(fake_telegram, api, database, grace=1.0, log_level="DEBUG")
        bot = BotProcess(tmp_path, env, log=tmp_path / "restarted.log")
        await bot.start()
        try:
            result = await alice.wait_for("(AI match score)", timeout=STARTUP)
            # Two retry rounds that began after the delivery (one may have been under way).
            rounds = bot.output().count(RETRY_ROUND_ENDED)
            await bot.logged(RETRY_ROUND_ENDED, rounds + 3)
        finally:
            assert await bot.stop() == 0, bot.output()
    assert "the check you sent earlier" in result.text
    assert results(alice) == 1
    status_now, delivered = case_row(database)
    assert status_now == "completed" and delivered is not None


async def test_sigterm_lets_an_analysis_in_flight_finish_and_deliver(
    tmp_path: Path, migrated_database: Callable[[str], Path], fake_telegram: FakeTelegram
) -> None:
    database = migrated_database("bot")
    async with FakeModelDerm(behaviour=Behaviour.slow(1.5)) as api:
        alice = FakeUser(fake_telegram, "Alice")
        bot = BotProcess(tmp_path, environment(fake_telegram, api, database, grace=15.0))
        await bot.start()
        try:
            await send_and_wait_for_the_api(alice, api)
        finally:
            status = await bot.stop()
    assert status == 0, bot.output()
    assert results(alice) == 1
    status_now, delivered = case_row(database)
    assert status_now == "completed" and delivered is not None
