"""Consent as a person meets it: declining, renewing after a terms change, withdrawing, erasing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import terms
from bot.conversation.callbacks import global_button
from bot.db.models import Case, ConsentDecision, ConsentRecord, User
from bot.db.session import create_engine, create_sessionmaker
from tests.conversation.conftest import World
from tests.conversation.flows import (
    WAIT,
    agree,
    finish_and_send,
    photo,
    send_photos,
    skip_everything,
)
from tests.db.test_erasure import _every_cell


async def stored(world: World, model: type, *where: object) -> list:  # type: ignore[type-arg]
    engine = create_engine(world.settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(await session.scalars(select(model).where(*where)))  # type: ignore[arg-type]
    finally:
        await engine.dispose()


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
    assert record.text_sha256 == terms.terms_sha256("en")
    assert record.terms_version == terms.TERMS_VERSION
    assert await stored(world, Case) == []


async def test_a_terms_change_asks_again_before_anything_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = world.person()
    async with world.bot():
        first_gate_text = terms.terms_text("en")
        await agree(alice)
        old_gate = next(m for m in alice.messages if "please read this" in m.text)
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await skip_everything(alice)
        # The operator deploys new terms while Alice looks at her summary.
        monkeypatch.setattr(terms, "TERMS_VERSION", "2")
        monkeypatch.setitem(terms._TEXTS, "en", first_gate_text + "\nA new clause.\n")
        await alice.press("📤 Send for analysis")
        await alice.wait_for("I need your agreement", timeout=WAIT)
        gate = await alice.wait_for("terms have changed", timeout=WAIT)
        assert "A new clause." in gate.text
        assert world.api.requests == []
        # Pressing "I agree" under the text of version 1 is not agreement to version 2.
        stale = await alice.press_data(global_button("consent", "1:yes"), message=old_gate)
        assert "no longer works" in (await stale.answer()).text
        await alice.press("✅ I agree", message=gate)
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        await alice.press("📤 Send for analysis", message=summary)
        await alice.wait_for("AI estimate", timeout=WAIT)
    assert len(world.api.requests) == 1
    records = await stored(world, ConsentRecord)
    assert [(r.terms_version, r.decision) for r in records] == [
        ("1", ConsentDecision.ACCEPTED),
        ("2", ConsentDecision.ACCEPTED),
    ]
    assert records[1].text_sha256 == terms.sha256_of(first_gate_text + "\nA new clause.\n")
    (case,) = await stored(world, Case)
    assert case.consent_record_id == records[1].id


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
        await alice.send("/withdraw")
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
    engine = create_engine(world.settings.database_url)
    try:
        cells = await _every_cell(engine)
    finally:
        await engine.dispose()
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
