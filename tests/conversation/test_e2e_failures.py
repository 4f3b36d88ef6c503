"""When the API fails: the case waits, the result arrives later exactly once; logs stay clean."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.logs import configure_logging
from tests.conversation.flows import (
    WAIT,
    agree,
    answer_everything,
    photo,
    send_photos,
    submit_case,
)
from tests.fakes.modelderm_server import Behaviour
from tests.fakes.plugin import RETRY_JOB, World
from tests.fakes.telegram_user import FakeUser


def results(user: FakeUser) -> list[str]:
    return [m.text for m in user.messages if "AI estimate (check" in m.text]


async def test_api_down_then_up_delivers_the_result_later_exactly_once(world: World) -> None:
    world.api.behaviour = Behaviour.proxy_error()
    alice = world.person()
    async with world.bot():
        await submit_case(alice)
        pending = await alice.wait_for("not answering right now", timeout=WAIT)
        assert "do not need to send anything again" in pending.text
        await world.api.received(2)  # the job's retry fails as well
        assert results(alice) == []
        world.api.behaviour = Behaviour.normal()
        late = await alice.wait_for("AI estimate", timeout=WAIT)
        assert "result of the check you sent earlier" in late.text
        # It replaced "Analysing…", silently; a new message says it has come and points at it.
        assert any("Analysing" in str(version.get("text")) for version in late.edits)
        notice = await alice.wait_for("Your result has come", timeout=WAIT)
        assert notice.reply_to_message_id == late.message_id
        # Retry rounds after the delivery: a duplicate would have come by now.
        await world.job_rounds(RETRY_JOB, 2)
    assert len(results(alice)) == 1
    assert sum("not answering right now" in m.text for m in alice.messages) == 1
    # Every try sent the same two photos; none was asked of the person again.
    assert {len(r.files) for r in world.api.requests} == {2}


async def test_a_pending_case_is_delivered_after_a_restart(world: World) -> None:
    world.api.behaviour = Behaviour.proxy_error()
    alice = world.person()
    async with world.bot():
        await submit_case(alice)
        await alice.wait_for("not answering right now", timeout=WAIT)
    world.api.behaviour = Behaviour.normal()
    async with world.bot():
        await alice.wait_for("AI estimate", timeout=WAIT)
        await world.job_rounds(RETRY_JOB, 2)
    assert len(results(alice)) == 1


async def test_a_refused_case_fails_with_a_clear_message(world: World) -> None:
    world.api.behaviour = Behaviour.raw(400, b"bad request")
    alice = world.person()
    async with world.bot():
        await submit_case(alice)
        await alice.wait_for("could not analyse this check", timeout=WAIT)
        await world.job_rounds(RETRY_JOB, 2)  # rounds in which it could have been retried
        await alice.send("/history")
        history = await alice.wait_for("Your checks", timeout=WAIT)
        assert "failed" in history.text
    assert len(world.api.requests) == 1  # a refusal is not retried


@pytest.mark.parametrize(
    "answer",
    [
        "<error>0</error><disease>Acne,-0.2,Rosacea,0.3</disease>",
        "<error>0</error><disease></disease><malignancy_output>1</malignancy_output>",
    ],
    ids=["negative-probability", "no-condition"],
)
async def test_an_answer_that_can_never_be_read_fails_the_case_and_offers_to_try_again(
    world: World, answer: str
) -> None:
    world.api.behaviour = Behaviour.raw(200, answer)
    alice = world.person()
    async with world.bot():
        await submit_case(alice)
        failed = await alice.wait_for("could not read", timeout=WAIT)
        assert "Nothing is wrong with your photos" in failed.text
        assert failed.buttons == ["🔁 Try again", "➕ New check"]
        # Three submissions of the client's two attempts each, then no more.
        assert len(world.api.requests) == 3 * 2
        assert not any(
            "See a doctor if it is no better in 2 to 4 weeks" in m.text for m in alice.messages
        )
        # "Analysing…" does not linger over a check that has ended.
        assert not any("Analysing" in m.text for m in alice.messages)
        assert any("no result will come" in m.text for m in alice.messages)
        world.api.behaviour = Behaviour.normal()
        await alice.press("🔁 Try again", message=failed)
        await alice.wait_for("AI estimate (check", timeout=WAIT)
        await alice.send("/history")
        history = await alice.wait_for("Your checks", timeout=WAIT)
        assert "See a doctor if it is no better in 2 to 4 weeks · Insect bite" in history.text
    assert len(world.api.requests) == 3 * 2 + 1
    assert len(results(alice)) == 1


async def test_history_and_status(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press("Someone else's (they agreed)")
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send("Patient 7")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await answer_everything(alice)
        await alice.press("📤 Send for analysis")
        await alice.wait_for("AI estimate", timeout=WAIT)
        await alice.send("/history")
        history = await alice.wait_for("Your checks", timeout=WAIT)
        assert (
            "Patient 7 · Arm · See a doctor if it is no better in 2 to 4 weeks · Insect bite"
            in history.text
        )
        await alice.send("/status")
        status = await alice.wait_for("AI service", timeout=WAIT)
        assert "server 1: up, 3 users now" in status.text
    (request,) = world.api.requests
    assert "Patient 7" not in (request.args2 or "")


async def test_the_token_never_reaches_the_logs_even_at_debug(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    token = world.settings.require_token()
    configure_logging(logging.DEBUG, secrets=[token])  # undone by tests/conftest.py
    try:
        alice = world.person()
        async with world.bot():
            await submit_case(alice)
            await alice.wait_for("AI estimate", timeout=WAIT)
    finally:
        # The handler writes to the captured stderr, which closes before the fixture's undo.
        logging.getLogger().handlers.clear()
    logged = capsys.readouterr().err
    assert "sendMessage" in logged  # the requests were logged...
    assert "getFile" in logged
    assert token not in logged  # ...without the token
    assert token.split(":")[1] not in logged
    assert "<redacted>" in logged


def hold_exclusive_lock(database: Path, held: threading.Event, release: threading.Event) -> None:
    """Another program (a backup, a second bot) holding the SQLite file locked until released."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        db.execute("BEGIN EXCLUSIVE")
        held.set()
        release.wait(30)
        db.rollback()


async def test_a_photo_that_cannot_be_stored_is_said_to_be_lost_and_taken_when_sent_again(
    world: World,
) -> None:
    database = Path(world.settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    alice = world.person()
    async with world.bot(database_lock_wait_s=0.3):
        await agree(alice)
        await alice.press("My own skin")
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        held, release = threading.Event(), threading.Event()
        locker = asyncio.create_task(
            asyncio.to_thread(hold_exclusive_lock, database, held, release)
        )
        await asyncio.to_thread(held.wait, 5)
        try:
            await alice.send_photo(photo(1))
            lost = await alice.wait_for("not saved", timeout=WAIT)
        finally:
            release.set()
            await locker
        assert "this photo was not saved" in lost.text and "send it again" in lost.text
        await alice.send_photo(photo(1))
        await alice.wait_for("1 photo received", timeout=WAIT)
    assert not any("What you sent so far is kept" in m.text for m in alice.messages)
