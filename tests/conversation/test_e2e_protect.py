"""PROTECT_RESULTS and PROTECT_CLINIC_POSTS: what Telegram lets be forwarded or saved.

A person's result (its text and its card) can be forwarded to their doctor unless the operator
turns PROTECT_RESULTS on; the clinic's album and card of a person's check cannot be forwarded
out of the clinicians' group unless PROTECT_CLINIC_POSTS is turned off. The fake Telegram marks
a message sent with protect_content as Telegram does (`has_protected_content`), and an edit
keeps the mark: the result is edited into a screen sent earlier, so that screen must have been
sent protected.
"""

from __future__ import annotations

import pytest

from tests.conversation.flows import WAIT, complete_case
from tests.conversation.test_e2e_consent_races import RESULT, to_summary
from tests.conversation.test_e2e_triage import card_of, clinic_of, send_a_case, triage_bot
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage, FakeUser


async def result_and_card(person: FakeUser) -> tuple[ChatMessage, ChatMessage]:
    result = await complete_case(person)
    card = await person.wait_for(lambda m: m.photo is not None, timeout=WAIT)
    return result, card


async def test_by_default_the_result_and_its_card_can_be_forwarded(world: World) -> None:
    alice = world.person()
    async with world.bot():
        result, card = await result_and_card(alice)
    assert not result.protected
    assert not card.protected


async def test_protect_results_protects_the_result_and_its_card(world: World) -> None:
    alice = world.person()
    async with world.bot(protect_results=True):
        result, card = await result_and_card(alice)
    assert result.protected
    assert card.protected


async def test_protect_results_protects_a_result_sent_as_a_new_message(world: World) -> None:
    """When "Analysing…" cannot be edited, the result comes as a message of its own."""
    world.api.hold()
    bob = world.person("Bob")
    async with world.bot(protect_results=True):
        await to_summary(bob)
        await bob.press("📤 Send for analysis")
        analysing = await bob.wait_for("Analysing", timeout=WAIT)
        world.telegram.fail_next(
            "editMessageText", status=400, description="Bad Request: message to edit not found"
        )
        world.api.release()
        result = await bob.wait_for(lambda m: RESULT in m.text and not m.edited, timeout=WAIT)
    assert result.message_id != analysing.message_id
    assert result.protected


@pytest.mark.parametrize("protect", [None, True, False])
async def test_the_clinics_album_and_card_are_protected_unless_turned_off(
    world: World, protect: bool | None
) -> None:
    clinic = clinic_of(world)
    overrides = {} if protect is None else {"protect_clinic_posts": protect}
    async with triage_bot(world, clinic, **overrides):
        result = await send_a_case(clinic.alice)
        card = await card_of(clinic)
        album = [m for m in clinic.doctor.messages if m.photo]
    expected = protect is not False  # on by default
    assert len(album) == 2
    assert [m.protected for m in album] == [expected, expected]
    assert card.protected is expected
    # The person's own result follows PROTECT_RESULTS alone (off by default).
    assert not result.protected
