"""Consent at the moment of every upload: /withdraw and /delete while a check waits or is sent.

A check waits for an API slot (another person's check holds it), between the client's own
attempts, or is on the wire. Whatever the moment, nothing leaves after the person withdrew or
erased; only an upload already on the wire may finish, and then its result is delivered after
/withdraw and silently discarded after /delete.
"""

from __future__ import annotations

import logging

import pytest

from bot.db.models import Case, CaseStatus
from tests.conversation.flows import WAIT, agree, send_photos, skip_everything, withdraw
from tests.conversation.test_e2e_consent import stored
from tests.fakes.modelderm_server import Behaviour
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage, FakeUser

RESULT = "AI estimate (check"


async def to_summary(user: FakeUser) -> ChatMessage:
    await agree(user)
    await user.press("My own skin")
    await send_photos(user, 2)
    await user.press("✅ Done")
    return await skip_everything(user)


async def api_received(world: World, count: int) -> None:
    """Until the fake API has received `count` diagnose requests."""
    await world.api.received(count, timeout=WAIT)


async def cases_by_person(world: World) -> dict[int, Case]:
    return {case.user.telegram_user_id: case for case in await stored(world, Case)}


def uploaded_case_ids(world: World) -> list[str]:
    return [request.metadata["id"] for request in world.api.requests]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def queue_behind_bob(world: World, alice: FakeUser, carol: FakeUser, bob: FakeUser) -> None:
    """Bob's check holds the only API slot; Alice's waits next in line, Carol's behind her."""
    for person in (bob, alice, carol):
        await to_summary(person)
    await bob.press("📤 Send for analysis")
    await api_received(world, 1)
    await alice.press("📤 Send for analysis")
    await alice.wait_for("you are next", timeout=WAIT)
    await carol.press("📤 Send for analysis")
    await carol.wait_for("1 person is ahead of you", timeout=WAIT)


async def test_withdraw_while_waiting_for_an_api_slot_sends_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.api.hold()
    bob, alice, carol = world.person("Bob"), world.person("Alice"), world.person("Carol")
    async with world.bot(api_concurrency=1):
        await queue_behind_bob(world, alice, carol, bob)
        await withdraw(alice)
        reply = await alice.wait_for("consent is withdrawn", timeout=WAIT)
        assert "check that was waiting to be sent was cancelled" in reply.text
        # Carol was behind Alice: once Carol has her result, Alice's turn has passed.
        world.api.release()
        await carol.wait_for(RESULT, timeout=WAIT)
        await bob.wait_for(RESULT, timeout=WAIT)
    cases = await cases_by_person(world)
    assert sorted(uploaded_case_ids(world)) == sorted(
        str(cases[person.id].public_id) for person in (bob, carol)
    )
    assert cases[alice.id].status is CaseStatus.CANCELLED
    assert not any(RESULT in m.text for m in alice.messages)
    # Her "Analysing…" no longer says she is in the queue.
    assert not any("Analysing" in m.text for m in alice.messages)
    assert any("Stopped" in m.text for m in alice.messages)
    assert errors(caplog) == []


async def test_delete_while_waiting_for_an_api_slot_sends_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.api.hold()
    bob, alice, carol = world.person("Bob"), world.person("Alice"), world.person("Carol")
    async with world.bot(api_concurrency=1):
        await queue_behind_bob(world, alice, carol, bob)
        await alice.send("/delete")
        confirm = await alice.wait_for("cannot be undone", timeout=WAIT)
        await alice.press("Yes, erase everything", message=confirm)
        erased = await alice.wait_for("your data is erased", timeout=WAIT)
        assert "check that was waiting to be sent was cancelled" in erased.text
        world.api.release()
        await carol.wait_for(RESULT, timeout=WAIT)
        await bob.wait_for(RESULT, timeout=WAIT)
    cases = await cases_by_person(world)
    assert alice.id not in cases
    assert sorted(uploaded_case_ids(world)) == sorted(
        str(cases[person.id].public_id) for person in (bob, carol)
    )
    assert not any(RESULT in m.text for m in alice.messages)
    assert errors(caplog) == []


async def test_withdraw_between_the_clients_attempts_stops_the_next_upload(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # The first try is answered "429, retry after 3 s": the client waits, then tries again.
    world.api.queue(Behaviour.too_many_requests("3"))
    alice = world.person()
    async with world.bot(modelderm_max_attempts=3):
        await to_summary(alice)
        await alice.press("📤 Send for analysis")
        await api_received(world, 1)
        await withdraw(alice)
        await alice.wait_for("consent is withdrawn", timeout=WAIT)
        dropped = await alice.wait_for("was not sent", timeout=WAIT)
        assert "withdrew your consent" in dropped.text
        await world.settled()  # every analysis has ended
    assert len(world.api.requests) == 1
    assert not any(RESULT in m.text for m in alice.messages)
    (case,) = await stored(world, Case)
    assert case.status is CaseStatus.CANCELLED
    assert errors(caplog) == []


async def test_withdraw_while_the_upload_is_on_the_wire_still_delivers_its_result(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.api.hold()
    alice = world.person()
    async with world.bot():
        await to_summary(alice)
        await alice.press("📤 Send for analysis")
        await api_received(world, 1)
        await withdraw(alice)
        reply = await alice.wait_for("consent is withdrawn", timeout=WAIT)
        assert "already on its way to the AI service may still bring its result" in reply.text
        world.api.release()
        result = await alice.wait_for(RESULT, timeout=WAIT)
        assert "(AI match score)" in result.text
    assert len(world.api.requests) == 1
    (case,) = await stored(world, Case)
    assert case.status is CaseStatus.COMPLETED and case.delivered_at is not None
    assert errors(caplog) == []


async def test_delete_while_the_upload_is_on_the_wire_discards_the_result_quietly(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.api.hold()
    alice = world.person()
    async with world.bot():
        await to_summary(alice)
        await alice.press("📤 Send for analysis")
        await api_received(world, 1)
        await alice.send("/delete")
        confirm = await alice.wait_for("cannot be undone", timeout=WAIT)
        await alice.press("Yes, erase everything", message=confirm)
        erased = await alice.wait_for("your data is erased", timeout=WAIT)
        assert "its result will not come" in erased.text
        world.api.release()
        await world.settled()  # every analysis has ended
    assert not any(RESULT in m.text for m in alice.messages)
    assert await stored(world, Case) == []
    assert errors(caplog) == []
