"""The whole conversation, from /start to the result, through the real application."""

from __future__ import annotations

from bot.i18n.texts import MESSAGES
from tests.conversation.flows import WAIT, agree, answer_everything, send_photos, skip_everything
from tests.fakes.plugin import World


async def test_happy_path_with_one_photo_and_every_answer(world: World) -> None:
    alice = world.person("Alice")
    async with world.bot():
        question = await agree(alice)
        assert question.buttons == ["My own skin", "Someone else's (they agreed)"]
        await alice.press("My own skin")
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        ack = await send_photos(alice, 1)
        assert "1 photo received. Send up to 4 more" in ack.text
        assert ack.buttons == ["✅ Done"]
        await alice.press("✅ Done")
        summary = await answer_everything(alice)
        for fragment in ("Photos: 1", "Year of birth: 1984", "Sex: Female", "Body site: Arm"):
            assert fragment in summary.text
        await alice.press("📤 Send for analysis")
        await alice.wait_for("Analysing your 1 photo", timeout=WAIT)
        result = await alice.wait_for("AI estimate", timeout=WAIT)
    assert "1. Insect bite — 27%" in result.text
    assert "not certified by the FDA or CE" in result.text
    assert "What to do next" in result.text
    # A "watch it" result: follow-up reminders (docs/follow-up.md), then a new check.
    assert result.buttons == ["📅 Remind me in 2 weeks", "📅 Remind me in 4 weeks", "➕ New check"]
    (request,) = world.api.requests
    assert len(request.files) == 1
    assert request.metadata["birth"] == "1984"
    assert request.metadata["sex"] == "f"
    assert request.metadata["race"] == "3"
    assert request.metadata["location"] == "arm"
    assert (request.metadata["pruritus"], request.metadata["pain"]) == ("o", "x")
    assert request.metadata["onset"] == "w"
    assert MESSAGES["welcome"].split("!")[0] in alice.messages[0].raw_text


async def test_every_question_skipped(world: World) -> None:
    alice = world.person("Alice")
    async with world.bot():
        await agree(alice)
        await alice.press("My own skin")
        await send_photos(alice, 2)
        await alice.press("✅ Done")
        summary = await skip_everything(alice)
        assert summary.text.count("not given") == 7
        await alice.press("📤 Send for analysis")
        await alice.wait_for("AI estimate", timeout=WAIT)
    (request,) = world.api.requests
    assert len(request.files) == 2
    assert request.metadata == {
        "id": request.metadata["id"],
        "race": "",
        "birth": "",
        "sex": "",
        "location": "",
        "pruritus": "",
        "pain": "",
        "onset": "",
    }
