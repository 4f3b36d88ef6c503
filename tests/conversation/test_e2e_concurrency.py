"""One person's slow analysis never delays another person's messages."""

from __future__ import annotations

from tests.conversation.flows import WAIT, agree, submit_case
from tests.fakes.plugin import World


async def test_a_slow_analysis_does_not_hold_up_anyone_else(world: World) -> None:
    world.api.hold()
    alice, bob = world.person("Alice"), world.person("Bob")
    async with world.bot():
        await submit_case(alice, photos=1)
        await alice.wait_for("Analysing", timeout=WAIT)
        await world.api.received(1)
        # While Alice's case is with the API, which does not answer, Bob and Alice herself are
        # answered: the conversation goes on meanwhile, not after the analysis.
        await agree(bob)
        await alice.send("/history")
        await alice.wait_for("being analysed", timeout=WAIT)
        assert not any("AI estimate (check" in m.text for m in alice.messages)
        world.api.release()
        await alice.wait_for("AI estimate (check", timeout=WAIT)
