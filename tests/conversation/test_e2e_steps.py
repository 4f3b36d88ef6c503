"""Wrong input, /cancel and stale buttons at every step, restarts between steps, groups."""

from __future__ import annotations

import pytest

from bot.i18n.texts import MESSAGES
from tests.conversation.flows import WAIT, agree, complete_case, photo, send_photos
from tests.conversation.lang_flows import says
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage, FakeGroup, FakeUser


async def to_step(user: FakeUser, step: str) -> None:
    """Walk a fresh person to `step`: subject, photos, birth_year, sex, body_site or summary."""
    await agree(user)
    if step == "subject":
        return
    await user.press("My own skin")
    await user.wait_for("send 1 to 5 photos", timeout=WAIT)
    if step == "photos":
        return
    await send_photos(user, 1)
    await user.press("✅ Done")
    await user.wait_for("year of birth", timeout=WAIT)
    if step == "birth_year":
        return
    await user.send("1990")
    await user.wait_for("sex", timeout=WAIT)
    if step == "sex":
        return
    await user.press("Male")
    await user.wait_for("skin type", timeout=WAIT)
    await user.press("Skip")
    await user.wait_for("Where", timeout=WAIT)
    if step == "body_site":
        return
    await skip_rest(
        user, ("itch", "hurt", "How long", "changed lately", "Please check before sending")
    )


async def skip_rest(user: FakeUser, then: tuple[str, ...]) -> None:
    """Press Skip on the question on screen, and on each next one, waiting for each in turn."""
    for expected in then:
        await user.press("Skip")
        await user.wait_for(expected, timeout=WAIT)


@pytest.mark.parametrize("step", ["subject", "photos", "birth_year", "sex", "summary"])
async def test_cancel_at_any_step_discards_the_case_and_old_buttons_go_stale(
    world: World, step: str
) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, step)
        before = alice.messages[-1]
        await alice.send("/cancel")
        await alice.wait_for("was cancelled", timeout=WAIT)
        if before.buttons:
            pressed = await alice.press(before.buttons[0], message=before)
            assert "no longer works" in (await pressed.answer()).text
        await alice.send("/new")
        fresh = await alice.wait_for("Whose skin", timeout=WAIT)
        assert "already have a check" not in fresh.text
    assert world.api.requests == []


async def test_wrong_input_at_each_step_gets_a_kind_answer_and_keeps_everything(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, "subject")
        await alice.send("it is my arm")
        hint = await alice.wait_for("choose one of the buttons", timeout=WAIT)
        assert hint.buttons == ["My own skin", "Someone else's (they agreed)"]
        await alice.press("My own skin", message=hint)
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        await alice.send("where do I send them?")
        await alice.wait_for("Please send a photo", timeout=WAIT)
        await send_photos(alice, 1)
        await alice.send_sticker()
        sticker = await alice.wait_for("cannot use stickers", timeout=WAIT)
        assert sticker.buttons == ["✅ Done"]
        await alice.press("✅ Done", message=sticker)
        for wrong in ("abc", "1850", "3000", "19 84 5", "🙂"):
            await alice.send(wrong)
            # The answer comes below what was typed, and the screen above it loses its Skip.
            again = await alice.wait_for(
                lambda m: "Please type a year" in m.text and m.buttons, timeout=WAIT
            )
            assert again.buttons == ["Skip"]
            await world.settled()
            assert [m.message_id for m in alice.messages if m.buttons] == [again.message_id]
        await alice.send("１９８４")  # full-width digits from a phone keyboard
        await alice.wait_for("sex", timeout=WAIT)
        await alice.send("female")
        await alice.wait_for("choose one of the buttons", timeout=WAIT)
        await alice.press("Female")
        await alice.wait_for("skin type", timeout=WAIT)
        await alice.press("Skip")
        await alice.wait_for("Where", timeout=WAIT)
        # Typing the place at the buttons' step is an answer; tags and control characters go.
        await alice.send("‮behind <b>left</b> ear\u200b")
        await alice.wait_for("itch", timeout=WAIT)
        await skip_rest(
            alice, ("hurt", "How long", "changed lately", "Please check before sending")
        )
        summary = alice.messages[-1]
        assert "Year of birth: 1984" in summary.text
        # Angle brackets and invisible characters are removed, the words kept.
        assert "Body site: behind bleft/b ear" in summary.text
        await alice.press("📤 Send for analysis", message=summary)
        await alice.wait_for("AI estimate", timeout=WAIT)
    (request,) = world.api.requests
    assert request.metadata["birth"] == "1984"
    assert "<" not in request.metadata["location"] and "ear" in request.metadata["location"]
    assert len(request.metadata_tags) == 8


async def test_stale_and_foreign_buttons_change_nothing(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, "subject")
        subject = alice.messages[-1]
        button = subject.button("Someone else's (they agreed)")
        assert button is not None
        await alice.press("My own skin")
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        again = await alice.press_data(str(button["callback_data"]), message=subject)
        assert "no longer works" in (await again.answer()).text
        for forged in ("c|0123456789ab|sex|f", "c|nonsense", "x|y|z", ""):
            pressed = await alice.press_data(forged, message=subject)
            assert "no longer works" in (await pressed.answer()).text
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
    # Nothing moved: still at the first question, whose reference was never asked.
    assert "short reference" not in " ".join(m.text for m in alice.messages)


async def test_the_conversation_survives_a_restart_at_any_step(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, "sex")
        await alice.press("Female")
        await alice.wait_for("skin type", timeout=WAIT)
    async with world.bot():
        # The question on screen before the restart still works afterwards.
        await alice.press("VI · never burns, dark brown skin")
        await alice.wait_for("Where", timeout=WAIT)
    async with world.bot():
        await alice.send("/start")
        resumed = await alice.wait_for("already have a check", timeout=WAIT)
        assert "Where" in resumed.text
        await alice.press("Hand", message=resumed)
        await alice.wait_for("itch", timeout=WAIT)
        await skip_rest(
            alice, ("hurt", "How long", "changed lately", "Please check before sending")
        )
        summary = alice.messages[-1]
    for fragment in ("Photos: 1", "Year of birth: 1990", "Sex: Female", "Skin type: VI", "Hand"):
        assert fragment in summary.text
    async with world.bot():
        await alice.press("📤 Send for analysis", message=summary)
        await alice.wait_for("AI estimate", timeout=WAIT)
    assert len(world.api.requests) == 1


async def test_change_an_answer_from_the_summary(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, "summary")
        await alice.press("✏️ Change an answer")
        await alice.wait_for("Which answer", timeout=WAIT)
        await alice.press("Sex")
        await alice.wait_for("What is your sex", timeout=WAIT)
        await alice.press("Female")
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        assert "Sex: Female" in summary.text
        await alice.press("✏️ Change an answer")
        await alice.wait_for("Which answer", timeout=WAIT)
        await alice.press("Photos")
        await alice.wait_for("1 photo received. Send up to 4 more, or press Done", timeout=WAIT)
        await alice.send_photo(photo(7))
        await alice.wait_for("2 photos received", timeout=WAIT)
        await alice.press("✅ Done")
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        assert "Photos: 2" in summary.text


async def test_groups_get_a_pointer_to_the_private_chat_and_nothing_is_collected(
    world: World,
) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    group = FakeGroup(world.telegram, "Clinic staff", [alice, bob])
    in_group = alice.in_chat(group)
    async with world.bot():
        await in_group.send("/start")
        pointer = await in_group.wait_for("private chat", timeout=WAIT)
        assert "t.me/" in pointer.text
        await in_group.send_photo(photo(1))
        await in_group.wait_for("private chat", timeout=WAIT)
        hello = await in_group.send("hello everyone")
        # An edit, even into a command, is left alone in a group.
        await in_group.edit(hello, "/start")
        await in_group.expect_no_reply()
    assert world.telegram.calls_to("getFile") == []
    assert world.api.requests == []


async def test_a_reference_that_is_too_long_or_empty_is_asked_again(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, "subject")
        await alice.press("Someone else's (they agreed)")
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send("x" * 40)
        again = await alice.wait_for("at most 24 characters", timeout=WAIT)
        assert again.buttons == ["Skip"]
        await alice.send("\u200b\u200b")  # only invisible characters
        await alice.wait_for("at most 24 characters", timeout=WAIT)
        await alice.send("Patient 12")
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
        await alice.press("Skip")
        await alice.wait_for("sex", timeout=WAIT)
        await alice.send("/cancel")
        await alice.wait_for("was cancelled", timeout=WAIT)


async def test_an_edited_message_is_never_taken_as_an_answer(world: World) -> None:
    # Editing the reference typed earlier, while the typed body site is awaited, must not put
    # the new words (here a name and a phone number) into the answer sent to the API.
    alice = world.person()
    async with world.bot():
        await to_step(alice, "subject")
        await alice.press("Someone else's (they agreed)")
        await alice.wait_for("short reference", timeout=WAIT)
        reference = await alice.send("P-17")
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
        await alice.send("1990")
        await alice.wait_for("sex", timeout=WAIT)
        await alice.press("Male")
        await alice.wait_for("skin type", timeout=WAIT)
        await alice.press("Skip")
        await alice.wait_for("Where", timeout=WAIT)
        await alice.press("Other (type it)")
        await alice.wait_for("Please type where it is", timeout=WAIT)
        await alice.edit(reference, "Jane Doe 010-1234-5678")
        note = await alice.wait_for("not edits", timeout=WAIT)
        assert note.buttons == []
        await alice.send("left ear")
        await alice.wait_for("itch", timeout=WAIT)
        await skip_rest(
            alice, ("hurt", "How long", "changed lately", "Please check before sending")
        )
        summary = alice.messages[-1]
        assert "Reference: P-17" in summary.text and "Body site: left ear" in summary.text
        await alice.press("📤 Send for analysis", message=summary)
        await alice.wait_for("AI estimate", timeout=WAIT)
    (request,) = world.api.requests
    assert request.metadata["location"] == "left ear"
    assert not any("Jane" in value or "010" in value for _, value in request.metadata_tags)


async def test_a_message_edited_into_a_command_runs_no_command(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_step(alice, "photos")
        typed = await alice.send("hello")
        await alice.wait_for("Please send a photo", timeout=WAIT)
        await alice.edit(typed, "/delete")
        await alice.wait_for("not edits", timeout=WAIT)
        # The conversation goes on where it was: the next photo is taken as usual.
        await send_photos(alice, 1)
    assert not any("Erase everything" in m.text for m in alice.messages)
    assert not any(m.buttons and "Yes, erase everything" in m.buttons for m in alice.messages)


async def only_the_screen_has_buttons(world: World, user: FakeUser) -> ChatMessage:
    """Once the bot is settled, the one message of the chat that shows buttons; returns it."""
    await world.settled()
    live = [m for m in user.messages if m.buttons]
    assert len(live) == 1, [f"#{m.message_id} {m.text[:40]!r} {m.buttons}" for m in live]
    return live[0]


async def test_whatever_the_person_sends_no_older_message_keeps_a_button(world: World) -> None:
    alice = world.person()
    async with world.bot():
        whose = await agree(alice)
        await alice.send("it is my arm")
        hint = await alice.wait_for("choose one of the buttons", timeout=WAIT)
        assert (await only_the_screen_has_buttons(world, alice)).message_id == hint.message_id
        assert whose.buttons == []
        await alice.press("My own skin", message=hint)
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        # Typed before any photo: no Done button to point at, since there is none yet.
        await alice.send("where do I send them?")
        before = await alice.wait_for("typed text cannot be used", timeout=WAIT)
        assert "Done" not in before.text and before.buttons == []
        await send_photos(alice, 1)
        await alice.send_sticker()
        sticker = await alice.wait_for("cannot use stickers", timeout=WAIT)
        assert (await only_the_screen_has_buttons(world, alice)).message_id == sticker.message_id
        await alice.send("/new")
        resumed = await alice.wait_for("check in progress", timeout=WAIT)
        assert (await only_the_screen_has_buttons(world, alice)).message_id == resumed.message_id
        # /language re-shows the screen where it is, and its menu keeps no button once used.
        await alice.send("/language")
        menu = await alice.wait_for("language", timeout=WAIT)
        await alice.press("English", message=menu)
        await alice.wait_for("I will write to you in English", timeout=WAIT)
        await alice.wait_for(lambda m: m.message_id == resumed.message_id, timeout=WAIT)
        assert (await only_the_screen_has_buttons(world, alice)).message_id == resumed.message_id
        # A press on an older screen (its data replayed) is stale: a toast, nothing sent.
        done = resumed.button("✅ Done")
        assert done is not None
        stale = await alice.press_data(str(done["callback_data"]), message=whose)
        assert (await stale.answer()).text == MESSAGES["stale_button"]
        await alice.expect_no_reply()
        await alice.send("/cancel")
        await alice.wait_for("cancelled", timeout=WAIT)
        await world.settled()
        assert [m for m in alice.messages if m.buttons] == []


async def test_after_a_restart_the_same_screen_goes_on_being_edited(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.send("1984")
        screen = await alice.wait_for("What is your sex", timeout=WAIT)
    async with world.bot():
        await alice.press("Female", message=screen)
        after = await alice.wait_for("skin type", timeout=WAIT)
        assert after.message_id == screen.message_id
        assert "✓ Year of birth: 1984 · ✓ Sex: Female" in after.text
        # The screen id is stored: a press on another message of the case is stale.
        await alice.send("/language")
        menu = await alice.wait_for("language", timeout=WAIT)
        await alice.press("Español", message=menu)
        edited = await alice.wait_for(lambda m: m.message_id == screen.message_id, timeout=WAIT)
        assert says("es", "q_skin_type") in edited.text
        await only_the_screen_has_buttons(world, alice)


async def test_a_new_check_retires_the_button_of_the_result_before(world: World) -> None:
    alice = world.person()
    async with world.bot():
        first = await complete_case(alice)
        # A "watch it" result: follow-up reminders (docs/follow-up.md), then a new check.
        assert first.buttons == [
            "📅 Remind me in 2 weeks",
            "📅 Remind me in 4 weeks",
            "➕ New check",
        ]
        await alice.press("➕ New check", message=first)
        await alice.wait_for("Whose skin", timeout=WAIT)
        await only_the_screen_has_buttons(world, alice)
        assert first.buttons == []
