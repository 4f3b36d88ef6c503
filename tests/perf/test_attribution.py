"""What the takeover benchmark reads from the fakes: who answered, what a fault left behind,
which cases were sent to the API twice. Checked against the real fakes, without any bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.imaging.pipeline import prepare
from tests.fakes.modelderm_server import FakeModelDerm
from tests.fakes.plugin import bot_via
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.perf.attribution import (
    Fault,
    answer_delays,
    base_photos,
    calls_after,
    first_served,
    person_photos,
    photos_fetched_again,
    presses_answered_only,
    repeated_calls,
    updates_left_behind,
)

ARGS2 = "<id>c1</id><race>3</race><birth>1990</birth><sex>f</sex><location>leg</location>"


def fault_now(via: str) -> Fault:
    return Fault(via, time.monotonic(), time.time())


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(record_calls=False) as server:
        yield server


async def test_a_confirmed_update_the_dead_process_never_answered_is_delivered_unanswered(
    fake: FakeTelegram,
) -> None:
    alice, bob = FakeUser(fake, "Alice"), FakeUser(fake, "Bob")
    await alice.send("one")
    await bob.send("two")
    await alice.send_photo(person_photos(base_photos(1), 0)[0])
    async with bot_via(fake, "a1") as leader, bot_via(fake, "b1") as successor:
        handed = await leader.get_updates(timeout=0)
        assert len(handed) == 3
        started = time.monotonic()
        assert handed[2].message is not None
        await (await leader.get_file(handed[2].message.photo[-1].file_id)).download_as_bytearray()
        answered = await leader.send_message(alice.chat_id, "hi Alice")
        # The next poll confirms all three, though Bob's is not answered yet; then a SIGKILL.
        assert await leader.get_updates(offset=handed[-1].update_id + 1, timeout=0) == ()
        killed = fault_now("a1")

        await bob.send("anyone?")
        taken = await successor.get_updates(timeout=0)
        photo = await successor.get_file(handed[2].message.photo[-1].file_id)
        await photo.download_as_bytearray()
        await successor.send_message(bob.chat_id, "hi Bob")

    served = first_served(fake.process_calls, fake.handouts, "a1", started - 5)
    assert served is not None and served <= time.monotonic()
    assert answered.text == "hi Alice"
    behind = updates_left_behind(fake.process_calls, fake.handouts, fake.confirmed, killed)
    assert behind["updates_unanswered"] == 1 and behind["updates_redelivered"] == 0
    assert behind["updates_delivered_unanswered"] == 1
    assert behind["updates_delivered_unanswered_kinds"] == [("message", 1)]
    assert 0 <= behind["updates_delivered_unanswered_handed_out_s_before_fault"][0] < 10
    # The successor was handed only what came after, and answered it.
    assert [u.message.text for u in taken if u.message] == ["anyone?"]
    assert first_served(fake.process_calls, fake.handouts, "b1", killed.at) is not None
    assert photos_fetched_again(fake.process_calls, killed, "b1") == 1
    assert calls_after(fake.process_calls, "a1", killed.at) == []
    # Alice's two updates answered by the first process, Bob's second by the successor; Bob's
    # first never: it has no delay.
    delays = answer_delays(fake.process_calls, fake.handouts)
    assert len(delays) == 3 and all(0 <= d < 10 for d in delays)


async def test_an_update_never_confirmed_goes_to_the_successor(fake: FakeTelegram) -> None:
    carol = FakeUser(fake, "Carol")
    await carol.send("three")
    async with bot_via(fake, "a1") as frozen, bot_via(fake, "b1") as successor:
        [update] = await frozen.get_updates(timeout=0)
        stopped = fault_now("a1")
        # Still queued at Telegram (not confirmed): neither handed again nor delivered yet.
        waiting = updates_left_behind(fake.process_calls, fake.handouts, fake.confirmed, stopped)
        assert waiting["updates_unanswered"] == 1 and waiting["updates_redelivered"] == 0
        assert waiting["updates_delivered_unanswered"] == 0
        [again] = await successor.get_updates(timeout=0)
        assert again.update_id == update.update_id
        # Nothing the successor answers counts for the frozen one.
        assert first_served(fake.process_calls, fake.handouts, "a1", stopped.at) is None
        await successor.send_message(carol.chat_id, "hello Carol")
        await frozen.get_me()  # a frozen leader continued, calling Telegram: it shows
    behind = updates_left_behind(fake.process_calls, fake.handouts, fake.confirmed, stopped)
    assert behind["updates_redelivered"] == 1 and behind["updates_delivered_unanswered"] == 0
    assert first_served(fake.process_calls, fake.handouts, "b1", stopped.at) is not None
    assert calls_after(fake.process_calls, "a1", stopped.at) == ["getMe"]


async def test_a_press_answered_without_anything_shown_after_it_is_counted(
    fake: FakeTelegram,
) -> None:
    dana, eve = FakeUser(fake, "Dana"), FakeUser(fake, "Eve")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("📤 Send", callback_data="send")]])
    async with bot_via(fake, "a1") as leader:
        for person in (dana, eve):
            await leader.send_message(person.chat_id, "Ready?", reply_markup=keyboard)
            await person.press("📤 Send")
        dana_press, eve_press = await leader.get_updates(timeout=0)
        assert dana_press.callback_query and eve_press.callback_query
        await dana_press.callback_query.answer()  # ... and killed before Dana's screen changed
        await eve_press.callback_query.answer()
        await leader.send_message(eve.chat_id, "⏳ Analysing")
        await leader.get_updates(offset=eve_press.update_id + 1, timeout=0)
        killed = fault_now("a1")
    [press] = presses_answered_only(fake.process_calls, fake.handouts, fake.confirmed, killed)
    assert press.callback_query_id == dana_press.callback_query.id
    # Both were answered, so neither counts as unanswered.
    behind = updates_left_behind(fake.process_calls, fake.handouts, fake.confirmed, killed)
    assert behind["updates_unanswered"] == 0 and behind["presses_answered_only"] == 1


async def test_a_repeat_is_explained_only_by_a_request_in_flight_at_a_fault() -> None:
    photos = [person_photos(base_photos(1), n)[0] for n in range(2)]

    async def send(client: httpx.AsyncClient, url: str, data: bytes) -> httpx.Response:
        files = [("file", ("photo.jpg", data, "image/jpeg"))]
        return await client.post(url, data={"args1": "test", "args2": ARGS2}, files=files)

    async with FakeModelDerm() as api, httpx.AsyncClient() as client:
        api.hold()
        flying = asyncio.create_task(send(client, api.url_for("a1"), photos[0]))
        await api.received(1)
        killed = fault_now("a1")
        api.release()
        await flying
        await send(client, api.url_for("b1"), photos[0])  # the successor sends it again
        explained = repeated_calls(api.requests, [killed])
        # A case answered before the fault, sent again: not explained by anything in flight.
        await send(client, api.url_for("b1"), photos[1])
        await send(client, api.url_for("b1"), photos[1])
        unexplained = repeated_calls(api.requests, [killed])

    assert explained["cases_called_more_than_once"] == 1 and explained["extra_calls"] == 1
    assert explained["calls_in_flight_at_faults"] == 1
    assert explained["repeats_explained_by_in_flight"] is True
    assert unexplained["cases_called"] == 2 and unexplained["extra_calls"] == 2
    assert unexplained["repeats_explained_by_in_flight"] is False
    assert len(unexplained["unexplained_repeats"]) == 1


def test_each_persons_photos_stay_distinct_after_the_bots_preparation() -> None:
    bases = base_photos()
    first, second = person_photos(bases, 0), person_photos(bases, 1)
    prepared = {prepare(data).data for data in (*first, *second)}
    assert len(prepared) == 4
    # The same photo prepared again (a takeover fetches it again) is the same upload.
    assert prepare(first[0]).data == prepare(person_photos(bases, 0)[0]).data
    assert not any(prepare(data).quality.warnings for data in first)
