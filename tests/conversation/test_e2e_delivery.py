"""Delivering the result: it always starts, arrives once, and every delivery ends.

"Analysing…" that cannot be shown does not stop the analysis; the result is delivered by
editing "Analysing…" into it, so a repeat after a crash changes nothing the person sees; a
person who blocked the bot is given up on at once, and no number of undeliverable results holds
up another person's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

import pytest

from bot.db import cases
from bot.db.database import Database
from bot.db.models import Case, CaseStatus
from bot.services import delivery
from tests.conversation.flows import WAIT
from tests.conversation.test_e2e_consent import stored
from tests.conversation.test_e2e_consent_races import RESULT, api_received, to_summary
from tests.db.helpers import DIAGNOSIS, accept_terms, case_with_photos
from tests.fakes.modelderm_server import Behaviour
from tests.fakes.plugin import RETRY_JOB, World, until
from tests.fakes.telegram_user import FakeUser


async def until_stored(world: World, condition: Callable[[list[Case]], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition(await stored(world, Case)):
        assert time.monotonic() < deadline, f"waited {WAIT} s for {what}"
        await asyncio.sleep(0.1)


def refused(world: World, person: FakeUser) -> int:
    """How many messages the bot tried to send or edit in the person's chat, refused with 403."""
    return sum(
        call.method in ("sendMessage", "editMessageText")
        and str(call.params.get("chat_id")) == str(person.chat_id)
        and call.status == 403
        for call in world.telegram.calls
    )


def results(person: FakeUser) -> int:
    """Distinct messages that ever showed the person a result."""
    return sum(
        any("(AI match score)" in str(v.get("text", "")) for v in [*m.edits, m.raw])
        for m in person.messages
    )


async def test_an_analysing_message_that_cannot_be_sent_does_not_stop_the_analysis(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot():
        await to_summary(alice)
        # Alice blocks the bot for a moment around her press: "Analysing…" is refused.
        world.telegram.fail_next("sendMessage", status=403)
        await alice.press("📤 Send for analysis")
        result = await alice.wait_for(RESULT, timeout=WAIT)
        assert "(AI match score)" in result.text
    assert not any("Analysing" in m.text for m in alice.messages)
    (case,) = await stored(world, Case)
    assert case.status is CaseStatus.COMPLETED and case.delivered_at is not None


async def test_the_result_replaces_the_analysing_message(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_summary(alice)
        await alice.press("📤 Send for analysis")
        analysing = await alice.wait_for("Analysing", timeout=WAIT)
        result = await alice.wait_for(RESULT, timeout=WAIT)
    assert result.message_id == analysing.message_id
    # A "watch it" result: follow-up reminders (docs/follow-up.md), then a new check.
    assert result.buttons == ["📅 Remind me in 2 weeks", "📅 Remind me in 4 weeks", "➕ New check"]
    assert results(alice) == 1


@pytest.mark.parametrize("late", [False, True], ids=["prompt", "late"])
async def test_a_result_edited_in_before_a_crash_is_not_sent_again_after_the_restart(
    world: World, monkeypatch: pytest.MonkeyPatch, late: bool
) -> None:
    monkeypatch.setattr(delivery, "REDELIVER_AFTER_S", 0.5)
    if late:
        # Both of the client's attempts fail: the check waits, and the retry job sends it.
        world.api.queue(Behaviour.proxy_error(), Behaviour.proxy_error())

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the bot stopped between the edit and recording it")

    alice = world.person()
    with monkeypatch.context() as patched:
        patched.setattr(delivery, "mark_delivered", crash)
        async with world.bot():
            await to_summary(alice)
            await alice.press("📤 Send for analysis")
            await alice.wait_for(RESULT, timeout=WAIT)
    (case,) = await stored(world, Case)
    assert case.delivered_at is None
    async with world.bot():
        await until_stored(world, lambda found: found[0].delivered_at is not None, "delivery")
        if late:
            await alice.wait_for("Your result has come", timeout=WAIT)
    assert results(alice) == 1
    # A late result is announced once, after it was recorded as delivered.
    notices = sum("Your result has come" in m.text for m in alice.messages)
    assert notices == (1 if late else 0)
    # The repeat was an edit that Telegram found already made.
    assert any(
        call.method == "editMessageText" and "not modified" in (call.description or "")
        for call in world.telegram.errors
    )


async def test_a_person_who_blocked_the_bot_is_given_up_on_after_one_try(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "REDELIVER_AFTER_S", 0.5)
    world.api.hold()
    alice = world.person("Alice")
    async with world.bot():
        await to_summary(alice)
        await alice.press("📤 Send for analysis")
        await alice.wait_for("Analysing", timeout=WAIT)
        await api_received(world, 1)
        alice.chat.blocked_bot = True
        world.api.release()
        await until(lambda: refused(world, alice) > 0, "the bot to meet the block")
        # Rounds of the redelivery job that began after her result would have been due again.
        loop = asyncio.get_running_loop()
        due_again = loop.time() + delivery.REDELIVER_AFTER_S
        while loop.time() < due_again:
            await world.job_rounds(RETRY_JOB)
        await world.job_rounds(RETRY_JOB, 2)
        alice.chat.blocked_bot = False
        await alice.send("/history")
        history = await alice.wait_for("Your checks", timeout=WAIT)
        assert "could not be delivered" in history.text
    assert refused(world, alice) == 1
    (case,) = await stored(world, Case)
    assert case.delivered_at is None
    assert case.delivery_given_up_at is not None
    assert case.delivery_failure == "blocked"
    assert case.delivery_attempts == 1


async def test_a_result_refused_by_a_telegram_hiccup_comes_with_the_next_round(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "REDELIVER_AFTER_S", 0.5)
    world.api.hold()
    bob = world.person("Bob")
    async with world.bot():
        await to_summary(bob)
        await bob.press("📤 Send for analysis")
        await bob.wait_for("Analysing", timeout=WAIT)
        world.telegram.fail_next("editMessageText", status=502)
        world.api.release()
        await bob.wait_for(RESULT, timeout=WAIT)
    assert results(bob) == 1
    (case,) = await stored(world, Case)
    assert case.delivered_at is not None and case.delivery_attempts == 2


async def seed_completed(world: World, people: list[FakeUser]) -> None:
    """A completed, never delivered case for each person, the first the oldest."""
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    async with Database.open(world.settings.database_url) as database:
        for n, person in enumerate(people):
            await accept_terms(database, person.id)
            public_id = await case_with_photos(database, person.id, 1)
            when = long_ago + dt.timedelta(minutes=n)
            await database.run(cases.mark_submitted, public_id, now=when)
            await database.run(cases.mark_completed, public_id, DIAGNOSIS, now=when)


async def test_twenty_undeliverable_results_do_not_hold_up_the_twenty_first(world: World) -> None:
    stuck = [world.person(f"Blocked {n}") for n in range(20)]
    for person in stuck:
        person.chat.blocked_bot = True
    alice = world.person("Alice")
    await seed_completed(world, [*stuck, alice])
    async with world.bot():
        result = await alice.wait_for(RESULT, timeout=WAIT)
    assert "check you sent earlier" in result.text
    assert all(refused(world, person) == 1 for person in stuck)
