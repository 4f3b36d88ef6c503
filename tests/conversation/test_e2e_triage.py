"""Triage end to end: the clinic's group, cards, decisions, relays, reminders, restarts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from bot.db.models import ClinicCopy
from bot.i18n.texts import MESSAGES
from bot.views.clinic_card import age_band
from tests.conversation.flows import (
    RECEIVED,
    WAIT,
    agree,
    answer_everything,
    photo,
    send_photos,
    withdraw,
)
from tests.conversation.lang_flows import Conversation
from tests.conversation.test_e2e_consent import stored
from tests.fakes.plugin import TRIAGE_JOB, World
from tests.fakes.telegram_user import ChatMessage, FakeGroup, FakeUser


@dataclass
class Clinic:
    group: FakeGroup
    doctor: FakeUser  # the clinician, talking in the group
    outsider: FakeUser  # in the group but not a clinician (restricted)
    alice: FakeUser  # the person, in her private chat


def clinic_of(world: World) -> Clinic:
    alice = world.person("Alice", last_name="Liddell", username="alice_skin")
    doctor = world.person("Dr Grey")
    outsider = world.person("Otto")
    group = FakeGroup(world.telegram, "Skin clinic triage", [doctor])
    in_group = outsider.in_chat(group)
    group.set_member_status(outsider, "restricted")
    return Clinic(group, doctor.in_chat(group), in_group, alice)


@asynccontextmanager
async def triage_bot(world: World, clinic: Clinic, **overrides: object) -> AsyncIterator[None]:
    settings = {
        "triage_chat_id": clinic.group.id,
        "triage_check_interval_s": 0.3,
        "triage_reminder_after_s": 3600.0,
        **overrides,
    }
    async with world.bot(**settings):
        yield


async def send_a_case(alice: FakeUser, photos: int = 2) -> ChatMessage:
    """From /start to the result; returns the result message."""
    await agree(alice)
    await alice.press("My own skin")
    await send_photos(alice, photos)
    await alice.press("✅ Done")
    await answer_everything(alice)
    await alice.press("📤 Send for analysis")
    result = await alice.wait_for("AI estimate", timeout=WAIT)
    await alice.wait_for(lambda m: m.photo is not None, timeout=WAIT)  # the result card
    return result


async def card_of(clinic: Clinic) -> ChatMessage:
    return await clinic.doctor.wait_for(lambda m: "Case " in m.text and bool(m.buttons), WAIT)


async def test_card_decision_and_messages_both_ways(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await alice.send("/start")
        terms = await alice.wait_for(lambda m: "✅ I agree" in m.buttons, timeout=WAIT)
        assert "its clinicians see your photos, your answers" in terms.text
        await alice.press("✅ I agree")
        await alice.wait_for("Whose skin", timeout=WAIT)
        await alice.press("My own skin")
        await send_photos(alice, 2)
        await alice.press("✅ Done")
        await answer_everything(alice)
        await alice.press("📤 Send for analysis")
        result = await alice.wait_for("AI estimate", timeout=WAIT)
        assert "A clinician of the clinic will also look at this check" in result.text
        # With what to do now, above the AI's matches.
        assert result.text.index("A clinician of the clinic") < result.text.index("1. Insect")
        # The result card comes after the text: wait for it, so that it is not taken below for
        # something sent when nothing should be.
        await alice.wait_for(lambda m: m.photo is not None, timeout=WAIT)

        card = await card_of(clinic)
        album = [m for m in clinic.doctor.messages if m.photo]
        assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
        case_id = card.text.split("Case ", 1)[1].split()[0]
        assert case_id in result.text  # the same public short id on both sides
        expected_band = age_band(1984, dt.datetime.now(dt.UTC).date())
        for fragment in (
            f"Age: {expected_band}",
            "Sex: Female",
            "Skin type: III",
            "Body site: Arm",
            "Itch: Mild or moderate",
            "Pain: No",
            "How long: Less than a month",
            "Changed lately: No change",
            "Whose skin: the sender's own",
            "Photos: 2",
            "1. Insect bite — 27%",
            "Malignancy output (raw, scale not published): 4",
            "Bot's advice to the person:",
            "waiting",
        ):
            assert fragment in card.text, fragment
        for identifier in ("Alice", "Liddell", "alice_skin", str(alice.id), "1984"):
            assert identifier not in card.text, identifier
        # The malignancy output and the photo count are the clinic's, not the person's.
        assert "alignancy" not in result.text and "Photos" not in result.text
        # The scale's tiers, most urgent first, then better photos.
        assert card.buttons == [
            "🟥 Urgent care now",
            "🟧 A doctor within a few days",
            "🟨 A dermatologist within 2 weeks",
            "🟦 A doctor if no better in 2-4 weeks",
            "🟩 Self-care and watch",
            "📷 Need better photos",
        ]
        old_self_care = card.button("🟩 Self-care and watch")
        assert old_self_care is not None

        # /queue lists it while undecided.
        await clinic.doctor.send("/queue")
        listed = await clinic.doctor.wait_for("Waiting for a decision", timeout=WAIT)
        assert f"1. Case {case_id}" in listed.text

        # Someone in the group who is not a clinician is refused; nothing changes.
        refused = await clinic.outsider.press("🟧 A doctor within a few days", message=card)
        answer = await refused.answer(timeout=WAIT)
        assert answer.text == MESSAGES["triage_not_clinician"]
        assert not card.edited
        await alice.expect_no_reply()

        # The clinician decides: the card shows who and what; the person is told what to do.
        pressed = await clinic.doctor.press("🟧 A doctor within a few days", message=card)
        assert (
            await pressed.answer(timeout=WAIT)
        ).text == "Recorded: 🟧 A doctor within a few days."
        told = await alice.wait_for("see a doctor within the next few days", timeout=WAIT)
        assert case_id in told.text and "in the next 2 to 3 days" in told.text
        assert "A doctor within a few days — Dr Grey" in card.text
        assert card.buttons == ["✏️ Change decision"]

        # A second decision from the old view of the card is refused.
        late = await clinic.doctor.press_data(str(old_self_care["callback_data"]), message=card)
        assert (await late.answer(timeout=WAIT)).text == MESSAGES["triage_stale"]
        await alice.expect_no_reply()
        await clinic.doctor.send("/queue")
        assert "No case is waiting" in (await clinic.doctor.wait_for("No case", WAIT)).text

        # Changing it is explicit, and both decisions stay on the card.
        await clinic.doctor.press("✏️ Change decision", message=card)
        await clinic.doctor.wait_for(
            lambda m: "🟨 A dermatologist within 2 weeks" in m.buttons, WAIT
        )
        await clinic.doctor.press("🟨 A dermatologist within 2 weeks", message=card)
        changed = await alice.wait_for("changed its advice", timeout=WAIT)
        assert "seen within 2 weeks" in changed.text
        await clinic.doctor.wait_for("(changed)", WAIT)
        assert "A doctor within a few days — Dr Grey" in card.text

        # Messages both ways: the clinician replies to the card, the person to that message.
        await clinic.doctor.send("Does it bleed when you scratch it?", reply_to=card)
        relayed = await alice.wait_for("Message from the clinic", timeout=WAIT)
        assert "Does it bleed when you scratch it?" in relayed.text and case_id in relayed.text
        await clinic.doctor.wait_for("Sent to the person", WAIT)
        await alice.send("No, it only itches at night.", reply_to=relayed)
        await alice.wait_for("Sent to the clinic", timeout=WAIT)
        back = await clinic.doctor.wait_for("Answer from the person", WAIT)
        assert "No, it only itches at night." in back.text
        assert back.reply_to_message_id == card.message_id
        assert "Alice" not in back.text

        # Typed answers of a new check still reach the questionnaire, not the clinic.
        await alice.send("/new")
        await alice.wait_for("Whose skin", timeout=WAIT)
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
        await alice.send("1990")
        await alice.wait_for("sex", timeout=WAIT)
        await clinic.doctor.expect_no_reply()


async def test_need_better_photos_reopens_the_same_case(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await send_a_case(alice, photos=2)
        card = await card_of(clinic)
        case_id = card.text.split("Case ", 1)[1].split()[0]
        await clinic.doctor.press("📷 Need better photos", message=card)
        asked = await alice.wait_for("needs better photos", timeout=WAIT)
        assert asked.buttons == ["📷 Send new photos"]
        reopen = asked.button("📷 Send new photos")
        assert reopen is not None
        await alice.press("📷 Send new photos")
        await alice.wait_for("send the new photos now", timeout=WAIT)
        await alice.send_photo(photo(7))
        await alice.wait_for(RECEIVED, timeout=WAIT)
        await alice.press("✅ Done")
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        assert "Photos: 1" in summary.text and "Year of birth: 1984" in summary.text
        await alice.press("📤 Send for analysis")
        again = await alice.wait_for("AI estimate", timeout=WAIT)
        assert case_id in again.text  # the same case

        new_card = await card_of(clinic)
        assert new_card.message_id != card.message_id
        assert f"Case {case_id}" in new_card.text and "round 2" in new_card.text
        assert "Photos: 1" in new_card.text
        assert "New photos were requested" in card.text and card.buttons == []
        assert len(world.api.requests) == 2
        await clinic.doctor.press("🟩 Self-care and watch", message=new_card)
        await alice.wait_for("self-care", timeout=WAIT)
        # The old "Send new photos" button does nothing any more.
        assert asked.buttons == []
        stale = await alice.press_data(str(reopen["callback_data"]), message=asked)
        assert (await stale.answer(timeout=WAIT)).text == MESSAGES["stale_button"]


async def test_restart_between_card_and_decision_and_reminders(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await send_a_case(alice)
        card = await card_of(clinic)
    # Restarted with a short reminder period: the waiting case is remembered and reminded once
    # per period, as a reply to its card.
    loop = asyncio.get_running_loop()
    async with triage_bot(world, clinic, triage_reminder_after_s=2.0):
        reminder = await clinic.doctor.wait_for("has been waiting", timeout=WAIT)
        reminded_at = loop.time()
        assert reminder.reply_to_message_id == card.message_id
        await world.job_rounds(TRIAGE_JOB, 2)  # rounds within the period remind no more
        assert len(reminders(clinic)) == 1
        await clinic.doctor.press("🟨 A dermatologist within 2 weeks", message=card)
        await alice.wait_for("seen within 2 weeks", timeout=WAIT)
    # Decided: no more reminders, even in rounds after another one would be due.
    async with triage_bot(world, clinic, triage_reminder_after_s=1.0):
        while loop.time() < reminded_at + 1.0:
            await world.job_rounds(TRIAGE_JOB)
        await world.job_rounds(TRIAGE_JOB)
        assert len(reminders(clinic)) == 1
    cards = [m for m in clinic.doctor.messages if "Case " in m.text and "Sent " in m.text]
    assert len(cards) == 1  # posted once across the restarts


def reminders(clinic: Clinic) -> list[ChatMessage]:
    return [m for m in clinic.doctor.messages if "has been waiting" in m.text]


async def test_posting_is_retried_and_happens_once(world: World) -> None:
    clinic = clinic_of(world)
    world.telegram.fail_next("sendMediaGroup", 1, status=502)
    async with triage_bot(world, clinic):
        await send_a_case(clinic.alice)
        await card_of(clinic)
        await world.job_rounds(TRIAGE_JOB, 2)  # rounds that could post it again
    albums = {m.media_group_id for m in clinic.doctor.messages if m.photo}
    cards = [m for m in clinic.doctor.messages if "Case " in m.text and "Sent " in m.text]
    assert len(albums) == 1 and len(cards) == 1


async def test_consent_given_without_triage_is_asked_again(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with world.bot():
        await agree(alice)
    async with triage_bot(world, clinic):
        await alice.send("/new")
        renew = await alice.wait_for("The terms have changed", timeout=WAIT)
        assert "its clinicians see your photos" in renew.text


async def test_free_text_goes_to_the_clinic_only_when_no_check_is_open(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await send_a_case(alice)
        card = await card_of(clinic)
        await clinic.doctor.send("Is it raised?", reply_to=card)
        await alice.wait_for("Message from the clinic", timeout=WAIT)
        await clinic.doctor.wait_for("Sent to the person", WAIT)
        await alice.send("Yes, a little.")
        await alice.wait_for("Sent to the clinic", timeout=WAIT)
        assert "Yes, a little." in (await clinic.doctor.wait_for("Answer from", WAIT)).text
        # A clinician's reply to another clinician is not relayed; chatter gets no answer.
        note = await clinic.doctor.send("I'll take this one")
        await clinic.doctor.send("ok", reply_to=note)
        await clinic.doctor.expect_no_reply()
        await alice.expect_no_reply()
        # A non-clinician's reply to the card does not reach the person.
        await clinic.outsider.send("hello?", reply_to=card)
        await clinic.outsider.wait_for("Only the clinic's clinicians", WAIT)
        await alice.expect_no_reply()


async def test_edited_messages_are_not_relayed_again(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await send_a_case(alice)
        card = await card_of(clinic)
        question = await clinic.doctor.send("Does it bleed?", reply_to=card)
        relayed = await alice.wait_for("Message from the clinic", timeout=WAIT)
        await clinic.doctor.wait_for("Sent to the person", WAIT)
        await clinic.doctor.edit(question, "Does it bleed? Call 010-1234-5678")
        answer = await alice.send("No.", reply_to=relayed)
        await alice.wait_for("Sent to the clinic", timeout=WAIT)
        await clinic.doctor.wait_for("Answer from the person", WAIT)
        await alice.edit(answer, "No. I am Alice Liddell")
        await alice.wait_for("not edits", timeout=WAIT)
        # A later, new reply still goes through: the edits before it were left alone.
        await clinic.doctor.send("Thank you.", reply_to=card)
        await alice.wait_for("Thank you.", timeout=WAIT)
        await clinic.doctor.wait_for("Sent to the person", WAIT)
    from_clinic = [m.text for m in alice.messages if "Message from the clinic" in m.text]
    assert len(from_clinic) == 2 and not any("010-1234" in body for body in from_clinic)
    in_group = " ".join(m.text for m in clinic.doctor.messages)
    assert "Alice Liddell" not in in_group and in_group.count("Answer from the person") == 1


async def test_two_clinicians_deciding_at_once_get_one_decision_and_no_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    clinic = clinic_of(world)
    second = world.person("Dr House").in_chat(clinic.group)
    async with triage_bot(world, clinic):
        await send_a_case(clinic.alice)
        card = await card_of(clinic)
        first = await clinic.doctor.press("🟧 A doctor within a few days", message=card)
        other = await second.press("🟩 Self-care and watch", message=card)
        answers = [(await first.answer(timeout=WAIT)).text, (await other.answer(timeout=WAIT)).text]
        told = await clinic.alice.wait_for("The clinic has looked at your check", timeout=WAIT)
        # A press after both proves the bot went on past them (and logged what it would).
        await clinic.doctor.send("/queue")
        await clinic.doctor.wait_for("No case is waiting", WAIT)
    assert answers == ["Recorded: 🟧 A doctor within a few days.", MESSAGES["triage_stale"]]
    assert "see a doctor within the next few days" in told.text
    assert "A doctor within a few days — Dr Grey" in card.text and "Dr House" not in card.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# ---------------------------------------------------------------- consent and erasure reach the
# clinic's group too


def sent_to_group(clinic: Clinic) -> list[ChatMessage]:
    """Everything the bot ever sent to the clinic's group, deleted or not."""
    events = clinic.group.state.events
    return [ChatMessage(e.message) for e in events if e.kind == "sent" and e.message is not None]


def short_id_of(result: ChatMessage) -> str:
    return result.text.split("(check ", 1)[1].split(")", 1)[0]


async def test_a_case_withdrawn_before_its_clinic_post_never_reaches_the_group(
    world: World,
) -> None:
    clinic = clinic_of(world)
    alice, bob = clinic.alice, world.person("Bob")
    # Alice's case cannot be posted for now: the bot was taken out of the group.
    bot_id = world.telegram.bot_user["id"]
    clinic.group.set_member_status(bot_id, "left")
    async with triage_bot(world, clinic):
        alices = short_id_of(await send_a_case(alice))
        await world.telegram.wait_for_answers("sendMediaGroup", failed=True)
    # While her case waits for the next try, she withdraws (the bot runs without triage for a
    # moment, so that no try is under way meanwhile).
    async with world.bot():
        await withdraw(alice)
        await alice.wait_for("Your consent is withdrawn", timeout=WAIT)
    clinic.group.set_member_status(bot_id, "member")
    async with triage_bot(world, clinic):
        bobs = short_id_of(await send_a_case(bob))
        card = await card_of(clinic)
        assert bobs in card.text
        await clinic.doctor.send("/queue")
        queue = await clinic.doctor.wait_for("Waiting for a decision", timeout=WAIT)
    posted = sent_to_group(clinic)
    assert not [m for m in posted if alices in m.text], "Alice's case reached the clinic"
    assert len([m for m in posted if m.photo]) == 2  # Bob's album only
    assert alices not in queue.text and bobs in queue.text


async def clinic_conversation(clinic: Clinic) -> tuple[str, list[ChatMessage]]:
    """Alice's case posted, a clinician's question and her answer relayed; returns her case's
    short id and the bot's messages about it in the group (album, card, relayed answer)."""
    alice = clinic.alice
    case_id = short_id_of(await send_a_case(alice))
    card = await card_of(clinic)
    await clinic.doctor.send("Does it bleed when you scratch it?", reply_to=card)
    relayed = await alice.wait_for("Message from the clinic", timeout=WAIT)
    await clinic.doctor.wait_for("Sent to the person", WAIT)
    await alice.send("No, it only itches at night.", reply_to=relayed)
    answer = await clinic.doctor.wait_for("Answer from the person", WAIT)
    album = [m for m in clinic.doctor.messages if m.photo]
    assert len(album) == 2
    return case_id, [*album, card, answer]


async def erase(alice: FakeUser) -> ChatMessage:
    await alice.send("/delete")
    await alice.wait_for("Erase everything?", timeout=WAIT)
    await alice.press("Yes, erase everything")
    return await alice.wait_for("your data is erased", timeout=WAIT)


async def test_delete_removes_the_case_from_the_clinics_group(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    # An administrator may delete the clinician's messages about the case too.
    clinic.group.set_member_status(world.telegram.bot_user["id"], "administrator")
    async with triage_bot(world, clinic):
        _, about_alice = await clinic_conversation(clinic)
        question = next(m for m in clinic.group.state.messages.values() if "bleed" in m.text)
        await erase(alice)
        await clinic.doctor.wait_until_deleted(about_alice, timeout=WAIT)
        assert question.deleted
        # Nothing remains, so nothing is asked of anyone: the next thing Alice reads is the
        # answer to her next command, and the group got nothing new.
        await alice.send("/history")
        await alice.wait_for("You have no checks yet", timeout=WAIT)
        assert alice.messages[-2].text.startswith("Done: your data is erased")
    assert not [m for m in sent_to_group(clinic) if "Please delete check" in m.text]
    assert await stored(world, ClinicCopy) == []  # nor the person's chat id, kept till now


async def test_what_telegram_will_not_delete_is_scrubbed_and_the_clinic_is_asked(
    world: World,
) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        case_id, about_alice = await clinic_conversation(clinic)
        card = about_alice[-2]
        # Two days later Telegram lets no bot delete these messages any more.
        world.telegram.age_messages(clinic.group.id, 49 * 3600)
        await erase(alice)
        note = await alice.wait_for("clinic's group", timeout=WAIT)
        request = await clinic.doctor.wait_for("Please delete check", timeout=WAIT)
    assert not any(m.deleted for m in about_alice)
    assert case_id in note.text and "asked the clinic to delete" in note.text
    assert case_id in request.text and request.reply_to_message_id == card.message_id
    # The card no longer shows the case: only the request to delete it.
    assert case_id in card.text and "Insect bite" not in card.text and card.buttons == []
    for details in ("Age:", "Body site", "Malignancy"):
        assert details not in card.text, details
    assert await stored(world, ClinicCopy) == []


async def test_the_clinic_reads_a_korean_persons_case_in_its_own_language(world: World) -> None:
    clinic = clinic_of(world)
    person = world.person("Minji", language_code="ko-KR")
    talk = Conversation(person, "ko")
    # Posted right after the result (not by the job, which waits an hour here).
    async with triage_bot(world, clinic, triage_check_interval_s=3600.0):
        await talk.check_to_result()
        card = await card_of(clinic)
    assert card.text.startswith("🩺 Case ") and "Body site: Arm" in card.text
    assert card.buttons[0] == "🟥 Urgent care now"
