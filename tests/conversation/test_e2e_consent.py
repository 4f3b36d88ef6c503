"""Consent as a person meets it: declining, renewing after a terms change, withdrawing, erasing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import terms
from bot.db.database import Database
from bot.db.models import Case, ConsentDecision, ConsentRecord, User
from bot.i18n.texts import MESSAGES
from bot.terms import Terms
from bot.views.buttons import global_button
from tests.conversation.flows import (
    WAIT,
    agree,
    finish_and_send,
    photo,
    send_photos,
    skip_everything,
    withdraw,
)
from tests.db.test_erasure import every_cell
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage


async def stored(world: World, model: type, *where: object) -> list:  # type: ignore[type-arg]
    async with Database.open(world.settings.database_url) as database:
        return await database.run(
            lambda session: list(session.scalars(select(model).where(*where)))  # type: ignore[arg-type]
        )


async def test_declining_sends_nothing_and_says_how_to_come_back(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await alice.send("/start")
        await alice.wait_for(lambda m: "❌ I do not agree" in m.buttons, timeout=WAIT)
        await alice.press("❌ I do not agree")
        declined = await alice.wait_for("Nothing has been sent", timeout=WAIT)
        assert "/start" in declined.text
        # Photos sent anyway are neither downloaded nor kept.
        await alice.send_photo(photo(1))
        await alice.wait_for("send /new", timeout=WAIT)
        await alice.send("/new")
        gate = await alice.wait_for("please read this", timeout=WAIT)
        assert gate.buttons == ["✅ I agree", "❌ I do not agree"]
    assert world.api.requests == []
    assert world.telegram.calls_to("getFile") == []
    (record,) = await stored(world, ConsentRecord)
    assert record.decision is ConsentDecision.DECLINED
    assert record.telegram_user_id == alice.id
    shown = Terms.from_settings(world.settings)
    assert record.text_sha256 == shown.sha256("en")
    assert record.terms_version == shown.version("en")
    assert await stored(world, Case) == []


async def test_a_terms_change_asks_again_before_anything_is_sent(world: World) -> None:
    alice = world.person()
    before = Terms.from_settings(world.settings)
    async with world.bot():
        await agree(alice)
        old_gate = next(m for m in alice.messages if "please read this" in m.text)
        assert "deleted automatically after 90 days" in old_gate.text
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        summary = await skip_everything(alice)
    # The operator restarts the bot with a shorter retention period while Alice looks at her
    # summary: the text changes, and so does its version, with no change to the code.
    async with world.bot(retention_days=30):
        after = Terms.from_settings(world.settings.model_copy(update={"retention_days": 30}))
        await alice.press("📤 Send for analysis", message=summary)
        await alice.wait_for("I need your agreement", timeout=WAIT)
        gate = await alice.wait_for("terms have changed", timeout=WAIT)
        assert "deleted automatically after 30 days" in gate.text
        assert world.api.requests == []
        # Pressing "I agree" under the earlier text is not agreement to this one.
        stale = await alice.press_data(_agree_data(old_gate), message=old_gate)
        assert "no longer works" in (await stale.answer()).text
        # Nor is a button of the time when versions were numbered by hand.
        legacy = await alice.press_data(global_button("consent", "1:yes"), message=old_gate)
        assert "no longer works" in (await legacy.answer()).text
        gate = await alice.wait_for("terms have changed", timeout=WAIT)
        await alice.press("✅ I agree", message=gate)
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        await alice.press("📤 Send for analysis", message=summary)
        await alice.wait_for("AI estimate", timeout=WAIT)
    assert len(world.api.requests) == 1
    records = await stored(world, ConsentRecord)
    assert [(r.terms_version, r.decision) for r in records] == [
        (before.version("en"), ConsentDecision.ACCEPTED),
        (after.version("en"), ConsentDecision.ACCEPTED),
    ]
    assert before.version("en") != after.version("en")
    # Each record proves its own text: exactly the terms, not the notice shown above them.
    assert records[0].text_sha256 == terms.sha256_of(before.text("en"))
    assert records[1].text_sha256 == terms.sha256_of(after.text("en"))
    assert MESSAGES["consent_renew"] not in after.text("en")
    (case,) = await stored(world, Case)
    assert case.consent_record_id == records[1].id


async def test_a_restart_with_the_same_settings_asks_nobody_again(world: World) -> None:
    alice = world.person()
    async with world.bot(triage_chat_id=-1009):
        await agree(alice)
    async with world.bot(triage_chat_id=-1009):
        await alice.send("/new")
        resumed = await alice.wait_for("Whose skin", timeout=WAIT)
    assert "You already have a check in progress" in resumed.text
    assert not any("terms have changed" in m.text for m in alice.messages)


def _agree_data(gate: ChatMessage) -> str:
    """The data of "I agree" as the gate first showed it (its buttons went once pressed)."""
    first = gate.edits[0] if gate.edits else gate.raw
    rows = first["reply_markup"]["inline_keyboard"]
    return next(str(b["callback_data"]) for row in rows for b in row if b["text"] == "✅ I agree")


async def test_withdrawing_stops_sending_and_delete_erases_everything_but_the_proof(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press("Someone else's (they agreed)")
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send("PT-0042")
        await send_photos(alice, 1)
        await finish_and_send(alice)
        await alice.send("/privacy")
        privacy = await alice.wait_for("Your consent", timeout=WAIT)
        assert "you agreed on" in privacy.text
        version = Terms.from_settings(world.settings).version("en")
        assert f"(terms version {version})" in privacy.text
        assert "deleted automatically after 90 days" in privacy.text
        await withdraw(alice)
        await alice.wait_for("consent is withdrawn", timeout=WAIT)
        await alice.send("/new")
        await alice.wait_for("please read this", timeout=WAIT)
        await alice.send("/delete")
        confirm = await alice.wait_for("cannot be undone", timeout=WAIT)
        await alice.press("Yes, erase everything", message=confirm)
        await alice.wait_for("your data is erased", timeout=WAIT)
        await alice.send("/history")
        await alice.wait_for("no checks yet", timeout=WAIT)
    assert await stored(world, User) == []
    async with Database.open(world.settings.database_url) as database:
        cells = await every_cell(database)
    file_ids = {str(call.params["file_id"]) for call in world.telegram.calls_to("getFile")}
    assert file_ids
    for table, values in cells.items():
        if table in ("consent_records", "alembic_version"):
            continue
        text = " ".join(values)
        assert str(alice.id) not in text, table
        assert "PT-0042" not in text, table
        assert not any(file_id in text for file_id in file_ids), table
    decisions = [r.decision for r in await stored(world, ConsentRecord)]
    assert decisions == [ConsentDecision.ACCEPTED, ConsentDecision.WITHDRAWN]


def folded_quote(message: ChatMessage) -> str:
    """The text of the message's expandable quote, as Telegram marks it."""
    (entity,) = [e for e in message.entities if e["type"] == "expandable_blockquote"]
    units = message.text.encode("utf-16-le")
    start, length = 2 * int(entity["offset"]), 2 * int(entity["length"])
    return units[start : start + length].decode("utf-16-le")


async def test_onboarding_is_one_message_whose_folded_terms_are_what_is_recorded(
    world: World,
) -> None:
    alice = world.person(language_code="ko")
    async with world.bot(timezone="Asia/Seoul"):
        await alice.send("/start")
        gate = await alice.wait_for(lambda m: "✅ 동의해요" in m.buttons, timeout=WAIT)
        assert [m.message_id for m in alice.messages] == [gate.message_id]
        shown = folded_quote(gate)
        welcome = gate.text[: gate.text.index(shown)].strip()
        assert len(welcome.splitlines()) <= 3
        await alice.press("✅ 동의해요", message=gate)
        await alice.wait_for(lambda m: m.message_id != gate.message_id, timeout=WAIT)
    (record,) = await stored(world, ConsentRecord)
    assert record.text_sha256 == terms.sha256_of(shown) and record.language == "ko"
    # Settled: the terms stay folded, with the day in Seoul and no time, no "UTC", no button.
    assert folded_quote(gate) == shown and gate.buttons == []
    seoul = record.recorded_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Seoul"))
    assert f"{seoul.year}. {seoul.month}. {seoul.day}." in gate.text
    assert "UTC" not in gate.text and ":" not in gate.text.splitlines()[-1]


async def test_withdraw_asks_first_and_no_keeps_the_consent(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.send("/withdraw")
        question = await alice.wait_for("Withdraw your consent?", timeout=WAIT)
        assert question.buttons == ["Yes, withdraw", "No, keep it"]
        await alice.press("No, keep it", message=question)
        kept = await alice.wait_for("stays as it was", timeout=WAIT)
        assert kept.message_id == question.message_id and kept.buttons == []
    decisions = [r.decision for r in await stored(world, ConsentRecord)]
    assert decisions == [ConsentDecision.ACCEPTED]
