"""The reference check's bar (issue 16), measured by the transcript tool's own scenario."""

from __future__ import annotations

import pytest

from tests.fakes.plugin import World
from tests.transcript import bar, chat_lines, reference_check

# The design's floor was 19 calls; "Has it changed lately?" (issue 17) added one screen edit.
MAX_FLOOD_CALLS = 20
MAX_MESSAGES_LEFT = 5


@pytest.mark.parametrize(("language", "own"), [("en", True), ("ko", True), ("es", False)])
async def test_the_reference_check_is_one_screen_and_costs_at_most_twenty_calls(
    world: World, language: str, own: bool
) -> None:
    person = world.person("Alice", language_code=language)
    async with world.bot():
        await reference_check(world, person, language, own=own)
    measured = bar(world.telegram, person, language)
    chat = "\n".join(chat_lines(person))
    # Someone else's skin has one screen more: the reference typed, and the question settled.
    extra = 0 if own else 2
    assert measured.flood_calls <= MAX_FLOOD_CALLS + extra, (measured, chat)
    assert measured.messages_left <= MAX_MESSAGES_LEFT + (0 if own else 1), chat
    assert measured.stale_buttons == 0, chat
    assert "sendChatAction" not in measured.calls_by_method
