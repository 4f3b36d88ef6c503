"""One person's slow analysis never delays another person's messages."""

from __future__ import annotations

import time

from tests.conversation.flows import WAIT, agree, submit_case
from tests.fakes.modelderm_server import Behaviour
from tests.fakes.plugin import World


async def test_a_slow_analysis_does_not_hold_up_anyone_else(world: World) -> None:
    world.api.behaviour = Behaviour.slow(2.5)
    alice, bob = world.person("Alice"), world.person("Bob")
    async with world.bot():
        await submit_case(alice, photos=1)
        await alice.wait_for("Analysing", timeout=WAIT)
        # While Alice's case is with the (slow) API, Bob and Alice herself are answered at once.
        started = time.perf_counter()
        await agree(bob)
        await alice.send("/history")
        await alice.wait_for("being analysed", timeout=WAIT)
        answered_within = time.perf_counter() - started
        assert not any("AI estimate (check" in m.text for m in alice.messages)
        await alice.wait_for("AI estimate (check", timeout=WAIT)
    # Generous bound: the point is "not after the 2.5 s analysis", not a speed target.
    assert answered_within < 2.0, answered_within
