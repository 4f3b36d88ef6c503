"""What the API names goes into the person's chat: it must arrive, and read as the AI's label.

The fake Telegram refuses a text longer than 4096 characters ("message is too long") and
markup it cannot parse, as Telegram does.
"""

from __future__ import annotations

import unicodedata

from tests.conversation.flows import WAIT, agree, finish_and_send, send_photos
from tests.fakes.plugin import World
from tests.fakes.telegram_text import utf16_len
from tests.fakes.telegram_user import ChatMessage, FakeUser

BIDI_AND_INVISIBLE = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u200b")


async def result_of_a_case(world: World, user: FakeUser) -> ChatMessage:
    await agree(user)
    await user.press("My own skin")
    await send_photos(user, 1)
    return await finish_and_send(user)


async def test_five_900_character_condition_names_still_give_a_result(world: World) -> None:
    world.api.conditions = [
        (f"{word} " + "very long condition name " * 36, probability)
        for word, probability in (
            ("First", 0.30),
            ("Second", 0.20),
            ("Third", 0.10),
            ("Fourth", 0.05),
            ("Fifth", 0.02),
        )
    ]
    assert all(len(name) >= 900 for name, _ in world.api.conditions)
    alice = world.person()
    async with world.bot():
        result = await result_of_a_case(world, alice)
        card = await alice.wait_for(lambda m: m.photo is not None, timeout=WAIT)
    assert utf16_len(result.text) <= 4096
    lines = [line for line in result.text.splitlines() if line[:2] in {"1.", "2.", "5."}]
    assert len(lines) == 3
    # Each name is cut short with an ellipsis, and its percent still follows it.
    assert lines[0].startswith("1. “First very long condition name")
    assert "…” — 30%" in lines[0]
    assert all(len(line) < 100 for line in lines)
    assert result.text.endswith(
        "Not a diagnosis: the AI is not certified by the FDA or CE and can be wrong."
    )
    assert card.photo


async def test_control_and_direction_characters_from_the_api_never_reach_the_chat(
    world: World,
) -> None:
    world.api.conditions = [
        ("Melanoma\u202e\nYou are healthy\u2066\u200b", 0.40),
        ("Tinea\r\ncorporis\x07\x1b[31m", 0.20),
        ("<b>Bold</b> &amp; brave", 0.10),
    ]
    alice = world.person()
    async with world.bot():
        result = await result_of_a_case(world, alice)
    assert not BIDI_AND_INVISIBLE & set(result.text)
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in result.text)
    lines = result.text.splitlines()
    # Each name stays on its own line, and one the bot does not know is quoted as the AI's.
    assert "1. “Melanoma You are healthy” — 40%" in lines
    assert "2. “Tinea corporis[31m” — 20%" in lines
    # Markup-like text is shown as written, not interpreted.
    assert "3. “<b>Bold</b> &amp; brave” — 10%" in lines
    assert any("quotation marks" in line for line in lines)
