"""The whole conversation, from /start to the result, through the real application."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db.models import Case
from bot.i18n import formatting as fmt
from bot.i18n.texts import MESSAGES
from bot.services import delivery
from tests.conversation.flows import WAIT, agree, answer_everything, send_photos, skip_everything
from tests.conversation.test_e2e_consent import stored
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
    assert "1. Insect bite (insect bite reaction) — 27%" in result.text
    assert "not certified by the FDA or CE" in result.text
    # What to do comes first, under the header: a top match score of 27% is below the
    # threshold of doubt, so never self-care only.
    assert result.text.splitlines()[2].startswith(
        "🟦 See a doctor if it is not better in 2 to 4 weeks: the AI is unsure"
    )
    assert result.text.index("🟦") < result.text.index("1. Insect bite (")
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
        assert summary.text.count("not given") == 8
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


@pytest.mark.parametrize("redelivered", [False, True])
async def test_a_field_workers_result_is_headed_by_the_patient_code_and_the_day_it_was_sent(
    world: World, monkeypatch: pytest.MonkeyPatch, redelivered: bool
) -> None:
    """Also when the first delivery failed and the result is built again from the stored case."""
    monkeypatch.setattr(delivery, "REDELIVER_AFTER_S", 0.5)
    worker = world.person("Nurse")
    async with world.bot():
        await agree(worker)
        await worker.press("Someone else's (they agreed)")
        await worker.wait_for(lambda m: "Skip" in m.buttons, timeout=WAIT)
        await worker.send("PT-7")
        await worker.wait_for("send 1 to 5 photos", timeout=WAIT)
        await send_photos(worker, 2)
        await worker.press("✅ Done")
        await skip_everything(worker)
        world.api.hold()
        await worker.press("📤 Send for analysis")
        await worker.wait_for("Analysing", timeout=WAIT)
        if redelivered:
            world.telegram.fail_next("editMessageText", status=502)
        world.api.release()
        result = await worker.wait_for("AI estimate (check", timeout=WAIT)
        sent_on = fmt.date(dt.datetime.now(dt.UTC), world.settings.zone)
    (case,) = await stored(world, Case)
    assert case.delivery_attempts == (2 if redelivered else 1)
    short = case.public_id.hex[:8]
    assert result.text.splitlines()[0] == f"AI estimate (check {short}) · {sent_on} · PT-7"
