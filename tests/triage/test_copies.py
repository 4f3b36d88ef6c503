"""Deleting the clinic's copies through the Bot API: what Telegram refuses is reported, what
fails for now is tried again, and every row ends."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from telegram import Bot

from bot.db import clinic_copies
from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.models import Base, ClinicCopy, ClinicCopyReason
from bot.services.clinic_copies import GIVE_UP_AFTER, clear_clinic_copies
from bot.views.result import short_case_id
from tests.fakes.plugin import bot_for
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import ChatMessage, FakeGroup, FakeUser


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(f"sqlite:///{tmp_path / 'bot.sqlite3'}") as database:
        await database.run_on_connection(Base.metadata.create_all)
        yield database


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with bot_for(fake_telegram) as real_bot:
        yield real_bot


class Clinic:
    def __init__(self, fake: FakeTelegram) -> None:
        self.nurse = FakeUser(fake, "Nurse")
        self.group = FakeGroup(fake, "Clinic", [self.nurse])
        self.in_group = self.nurse.in_chat(self.group)
        self.person = FakeUser(fake, "Alice")


async def queue_copy(
    database: Database,
    clinic: Clinic,
    bot: Bot,
    *,
    queued_at: dt.datetime | None = None,
) -> tuple[uuid.UUID, list[ChatMessage]]:
    """A posted card and photo in the group, queued for deletion as /delete would."""
    photo = await bot.send_message(clinic.group.id, "a photo")
    card = await bot.send_message(clinic.group.id, "🩺 Case card")
    public_id = uuid.uuid4()
    await database.run(
        clinic_copies.add_copy,
        public_id,
        ClinicCopyReason.ERASED,
        clinic.group.id,
        [photo.message_id, card.message_id],
        card_ids=[card.message_id],
        notify_chat_id=clinic.person.id,
        language="en",
        now=queued_at,
    )
    return public_id, clinic.in_group.messages[-2:]


async def rows(database: Database) -> list[ClinicCopy]:
    return await database.run(lambda session: list(session.scalars(select(ClinicCopy))))


async def test_a_failure_for_now_is_tried_again_and_a_gone_message_counts_as_deleted(
    database: Database, fake_telegram: FakeTelegram, bot: Bot
) -> None:
    clinic = Clinic(fake_telegram)
    _, messages = await queue_copy(database, clinic, bot)
    await bot.delete_message(clinic.group.id, messages[0].message_id)  # the clinic did it
    fake_telegram.fail_next("deleteMessage", 2, status=502)
    first = await clear_clinic_copies(bot, database)
    assert (first.deleted, first.waiting) == (0, 1)
    (row,) = await rows(database)
    assert row.attempts == 1 and row.claimed_until is None and len(row.message_ids) == 2
    second = await clear_clinic_copies(bot, database)
    assert (second.deleted, second.stayed, second.waiting) == (2, 0, 0)
    assert all(m.deleted for m in messages) and await rows(database) == []
    assert clinic.person.messages == []  # nothing stayed: nothing to tell


async def test_a_bot_out_of_the_group_cannot_ask_so_the_person_is_told_to(
    database: Database, fake_telegram: FakeTelegram, bot: Bot
) -> None:
    clinic = Clinic(fake_telegram)
    public_id, messages = await queue_copy(database, clinic, bot)
    clinic.group.set_member_status(fake_telegram.bot_user["id"], "left")
    cleared = await clear_clinic_copies(bot, database)
    assert (cleared.deleted, cleared.stayed) == (0, 2)
    note = await clinic.person.wait_for(short_case_id(str(public_id)))
    assert "please ask the clinic to delete it" in note.text
    assert not any(m.deleted for m in messages) and await rows(database) == []


async def test_a_row_that_keeps_failing_ends_after_a_day(
    database: Database, fake_telegram: FakeTelegram, bot: Bot
) -> None:
    clinic = Clinic(fake_telegram)
    long_ago = utcnow() - GIVE_UP_AFTER - dt.timedelta(minutes=1)
    public_id, messages = await queue_copy(database, clinic, bot, queued_at=long_ago)
    fake_telegram.fail_next("deleteMessage", 2, status=502)
    cleared = await clear_clinic_copies(bot, database)
    assert cleared.stayed == 2 and await rows(database) == []
    request = await clinic.in_group.wait_for("Please delete check")
    assert request.reply_to_message_id == messages[1].message_id
    assert messages[1].text.startswith("🗑 Check") and short_case_id(str(public_id)) in request.text
    note = await clinic.person.wait_for("clinic's group")
    assert "I have asked the clinic to delete it." in note.text


async def test_a_row_held_by_a_worker_that_died_is_taken_up_later(
    database: Database, fake_telegram: FakeTelegram, bot: Bot
) -> None:
    clinic = Clinic(fake_telegram)
    _, messages = await queue_copy(database, clinic, bot)
    held = utcnow() + dt.timedelta(minutes=1)
    await database.run(
        lambda session: session.execute(update(ClinicCopy).values(claimed_until=held))
    )
    assert (await clear_clinic_copies(bot, database)).deleted == 0
    await database.run(
        lambda session: session.execute(update(ClinicCopy).values(claimed_until=utcnow()))
    )
    assert (await clear_clinic_copies(bot, database)).deleted == 2
    assert all(m.deleted for m in messages)
