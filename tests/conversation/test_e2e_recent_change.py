""" "Has it changed lately?": its own step, kept on the case, never sent to the API, and counted
by the advice (here as the clinic's card shows it)."""

from __future__ import annotations

from bot.db.models import Case
from bot.i18n.texts import MESSAGES
from bot.modelderm.protocol import METADATA_TAGS
from tests.conversation.flows import ALL_ANSWERS, WAIT, agree, answer_everything, send_photos
from tests.conversation.test_e2e_consent import stored
from tests.conversation.test_e2e_triage import card_of, clinic_of, triage_bot
from tests.fakes.plugin import World
from tests.fakes.telegram_user import FakeUser

CHOICES = ["It bleeds", "It grew or changed shape or colour", "No change", "Skip"]


async def answer_with_change(user: FakeUser, change: str) -> None:
    """Every question answered as flows.py does, but "Has it changed lately?" with `change`."""
    await user.wait_for("year of birth", timeout=WAIT)
    await user.send("1984")
    for (label,) in ALL_ANSWERS[:-1]:
        await user.wait_for(lambda m, label=label: label in m.buttons, timeout=WAIT)
        await user.press(label)
    question = await user.wait_for("Has it changed lately?", timeout=WAIT)
    assert question.buttons == CHOICES
    # Typed where a button is expected: the kind answer every choice question gives.
    await user.send("it bled yesterday")
    again = await user.wait_for(MESSAGES["use_buttons"].split(" (")[0], timeout=WAIT)
    assert again.buttons == CHOICES
    await user.press(change, message=again)


async def test_a_bleeding_spot_is_kept_shown_to_the_clinic_and_never_sent_to_the_api(
    world: World,
) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await agree(alice)
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await answer_with_change(alice, "It bleeds")
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        assert "Changed lately: It bleeds" in summary.text
        await alice.press("📤 Send for analysis")
        await alice.wait_for("AI estimate", timeout=WAIT)
        card = await card_of(clinic)
    # The fake API's answer (Insect bite 27%) alone would be "unsure"; the bleeding asks for
    # a dermatologist within 2 weeks, and the card says why.
    assert "Changed lately: It bleeds" in card.text
    assert f"Bot's advice to the person: {MESSAGES['triage_tier_within_2_weeks']}" in card.text
    assert MESSAGES["advice_rule_changed"] in card.text
    (request,) = world.api.requests
    assert [tag for tag, _ in request.metadata_tags] == list(METADATA_TAGS)
    sent = f"{request.args1 or ''}{request.args2 or ''}".lower()
    assert "bleed" not in sent and "change" not in sent
    (case,) = await stored(world, Case)
    assert case.answers["recent_change"] == "bleeds"


async def test_the_answer_can_be_changed_from_the_summary(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        summary = await answer_everything(alice)
        assert "Changed lately: No change" in summary.text
        await alice.press("✏️ Change an answer", message=summary)
        which = await alice.wait_for(lambda m: "Changed lately" in m.buttons, timeout=WAIT)
        await alice.press("Changed lately", message=which)
        await alice.wait_for("Has it changed lately?", timeout=WAIT)
        await alice.press("It grew or changed shape or colour")
        summary = await alice.wait_for("Changed lately: It grew", timeout=WAIT)
        assert "Changed lately: It grew or changed shape or colour" in summary.text
