"""Retention kept by the running bot: expired cases go, with their copies in the clinic's group."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.db.database import Database
from bot.db.models import Case
from tests.conversation.flows import WAIT
from tests.conversation.test_e2e_consent import stored
from tests.conversation.test_e2e_triage import (
    card_of,
    clinic_of,
    send_a_case,
    short_id_of,
    triage_bot,
)
from tests.fakes.plugin import World


async def finished_long_ago(world: World, days: int) -> None:
    """Every case finished `days` ago, as if the bot had been running that long."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    finished = update(Case).values(created_at=then, submitted_at=then, completed_at=then)
    async with Database.open(world.settings.database_url) as database:
        await database.run(lambda session: session.execute(finished))


async def test_the_bot_purges_expired_cases_and_their_clinic_copies(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await send_a_case(alice)
        card = await card_of(clinic)
        album = [m for m in clinic.doctor.messages if m.photo]
    await finished_long_ago(world, world.settings.retention_days + 1)
    # No operator runs `purge`: the bot does it soon after it starts.
    async with triage_bot(world, clinic, retention_purge_interval_s=0.5):
        await clinic.doctor.wait_until_deleted([*album, card], timeout=WAIT)
        await alice.send("/history")
        await alice.wait_for("You have no checks yet", timeout=WAIT)
    assert await stored(world, Case) == []


async def test_a_purged_case_the_group_keeps_is_reported_to_both(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        case_id = short_id_of(await send_a_case(alice))
        card = await card_of(clinic)
    await finished_long_ago(world, world.settings.retention_days + 1)
    world.telegram.age_messages(clinic.group.id, (world.settings.retention_days + 1) * 86400)
    async with triage_bot(world, clinic, retention_purge_interval_s=0.5):
        request = await clinic.doctor.wait_for("Please delete check", timeout=WAIT)
        note = await alice.wait_for("clinic's group", timeout=WAIT)
    assert case_id in request.text and request.reply_to_message_id == card.message_id
    assert case_id in note.text and "deleted" in note.text
    assert await stored(world, Case) == []
