"""Photos in the chat: albums, the five-photo limit, quality advice, and what is not a photo."""

from __future__ import annotations

import asyncio

import pytest

from bot.conversation.common import SERVICES_KEY
from bot.i18n.texts import MESSAGES
from bot.imaging import DownloadBudget, PreparedPhoto, prepare
from bot.services.container import Services
from tests.conversation.flows import (
    RECEIVED,
    WAIT,
    agree,
    finish_and_send,
    photo,
    send_photos,
    skip_everything,
)
from tests.fakes.plugin import World, until
from tests.fakes.telegram_files import image_size
from tests.fakes.telegram_user import FakeUser
from tests.images import animated_gif, jpeg_bytes, make_skin_photo, png_bytes


async def at_photos(user: FakeUser) -> None:
    await agree(user)
    await user.press("My own skin")
    await user.wait_for("send 1 to 5 photos", timeout=WAIT)


async def test_album_of_three_gets_one_acknowledgement_and_all_three_are_sent(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        ack = await send_photos(alice, 3, album=True)
        assert "3 photos received. Send up to 2 more" in ack.text
        await world.settled()  # any further acknowledgement has come by now
        acks = [m for m in alice.messages if RECEIVED in m.text]
        assert len(acks) == 1
        await finish_and_send(alice)
    (request,) = world.api.requests
    assert len(request.files) == 3
    assert all(f.content_type == "image/webp" for f in request.files)


async def test_five_photos_then_a_sixth_is_refused_and_not_stored(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        await send_photos(alice, 5, album=True)
        await alice.send_photo(photo(6))
        refusal = await alice.wait_for("This one was not kept", timeout=WAIT)
        assert "5 photos received, the most I can use. Press Done" in refusal.text
        assert refusal.buttons == ["✅ Done"]
        result = await finish_and_send(alice)
        # The photos all went to the API (the count is not shown to the person).
        assert len(world.api.requests[-1].files) == 5
        assert MESSAGES["result_caveat_one_photo"] not in result.text
    (request,) = world.api.requests
    assert len(request.files) == 5


async def test_a_blurred_photo_can_be_replaced(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        await alice.send_photo(photo(1))
        await alice.send_photo(photo(2, blur=6))
        # The warning is part of the one acknowledgement of the batch, with its buttons.
        warning = await alice.wait_for("looks blurry", timeout=WAIT)
        assert "Photo 2" in warning.text
        assert "2 photos received. Send up to 3 more" in warning.text
        assert warning.buttons == ["Keep photo 2", "Replace photo 2", "✅ Done"]
        assert [m.message_id for m in alice.messages if "looks blurry" in m.text] == [
            warning.message_id
        ]
        await alice.press("Replace photo 2", message=warning)
        removed = await alice.wait_for("Photo 2 removed", timeout=WAIT)
        assert removed.message_id == warning.message_id  # edited in place
        assert removed.buttons == ["✅ Done"]
        await alice.send_photo(photo(3))
        ack = await alice.wait_for(RECEIVED, timeout=WAIT)
        assert "2 photos received. Send up to 3 more" in ack.text
        # The acknowledgement before the latest is gone, so no old button is left to press.
        await world.settled()
        assert warning.deleted
        await finish_and_send(alice)
    (request,) = world.api.requests
    assert len(request.files) == 2


async def files_asked_for(world: World, expected: int) -> int:
    """How many files the bot asked Telegram for, once that is at least `expected`."""
    await world.telegram.wait_for_answers("getFile", expected, timeout=WAIT)
    return len(world.telegram.calls_to("getFile"))


def held(application: object) -> int:
    """How many prepared photos the bot holds in memory."""
    services: Services = application.bot_data[SERVICES_KEY]  # type: ignore[attr-defined]
    return len(services.held_photos)


def fetched(world: World) -> list[bytes]:
    """The files the bot downloaded, in the order it asked for them."""
    files = [
        world.telegram.files.get(str(c.params["file_id"]))
        for c in world.telegram.calls_to("getFile")
    ]
    return [f.data for f in files if f is not None]


async def test_the_800_px_size_of_a_photo_is_fetched_not_the_original(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        await send_photos(alice, 1)
        await finish_and_send(alice)
    # Telegram holds 90, 320, 800 and 1280 px sizes of a 1280 x 960 photo; 800 x 600 still
    # covers the 512 px square the API gets, and is less than half the pixels to decode.
    (data,) = fetched(world)
    assert image_size(data) == (800, 600)
    (request,) = world.api.requests
    assert [f.data for f in request.files] == [prepare(data).data]


async def test_photos_are_downloaded_and_prepared_once_and_not_kept_after_sending(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot() as application:
        await at_photos(alice)
        await send_photos(alice, 2)
        assert held(application) == 2
        await finish_and_send(alice)
        assert held(application) == 0
    first, second = fetched(world)
    (request,) = world.api.requests
    # The API gets exactly the copies prepared on arrival: 512 px WebP, no metadata.
    assert [f.data for f in request.files] == [prepare(first).data, prepare(second).data]


async def test_after_a_restart_the_photos_are_fetched_from_telegram_again(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        await send_photos(alice, 2)
    async with world.bot():
        result = await finish_and_send(alice)
        # The photos all went to the API (the count is not shown to the person).
        assert len(world.api.requests[-1].files) == 2
        assert MESSAGES["result_caveat_one_photo"] not in result.text
    first, second, first_again, second_again = fetched(world)
    assert (first_again, second_again) == (first, second)
    (request,) = world.api.requests
    assert [f.data for f in request.files] == [prepare(first).data, prepare(second).data]


async def test_a_photo_not_acknowledged_before_a_stop_is_checked_and_acknowledged_after_it(
    world: World,
) -> None:
    """Telegram counts an update as delivered once the bot fetched it: a photo stored but not
    yet acknowledged when the bot stops is checked after the restart, and answered as usual."""
    alice = world.person()
    # A long quiet time: the bot stops (at once) while it waits for more photos of the album.
    async with world.bot(album_quiet_s=60.0, shutdown_grace_s=0.0):
        await at_photos(alice)
        await alice.send_photo(photo(1))
        await world.updates_handled()
    assert not [m for m in alice.messages if "photo received" in m.text]
    async with world.bot():
        ack = await alice.wait_for("photo received", timeout=WAIT)
        assert "1 photo received. Send up to 4 more, or press Done." in ack.text
        result = await finish_and_send(alice)
        # The photos all went to the API (the count is not shown to the person).
        assert len(world.api.requests[-1].files) == 1
        assert MESSAGES["result_caveat_one_photo"] in result.text
    (request,) = world.api.requests
    assert len(request.files) == 1


async def test_replaced_and_cancelled_photos_are_not_kept_in_memory(world: World) -> None:
    alice = world.person()
    async with world.bot() as application:
        await at_photos(alice)
        await alice.send_photo(photo(1))
        await alice.send_photo(photo(2, blur=6))
        warning = await alice.wait_for("looks blurry", timeout=WAIT)
        assert held(application) == 2
        await alice.press("Replace photo 2", message=warning)
        await alice.wait_for("Photo 2 removed", timeout=WAIT)
        assert held(application) == 1
        await alice.send("/cancel")
        await alice.wait_for("cancelled", timeout=WAIT)
        assert held(application) == 0
    assert world.api.requests == []


async def test_files_that_are_not_photos_get_a_clear_answer_and_nothing_is_lost(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        await send_photos(alice, 1)
        cases = [
            (
                alice.send_document(b"%PDF-1.4 not a photo", "scan.pdf", "application/pdf"),
                "only use photos",
            ),
            (alice.send_document(b"hello", "mole.jpg", "image/jpeg"), "only use photos"),
            (
                alice.send_document(
                    jpeg_bytes(make_skin_photo(640, 480, seed=9))[:3000], "cut.jpg", "image/jpeg"
                ),
                "damaged or incomplete",
            ),
            (
                alice.send_document(animated_gif(), "moving.gif", "image/gif"),
                "cannot read this kind of file",
            ),
            (alice.send_video(), "cannot use videos"),
            (alice.send_sticker(), "cannot use stickers"),
            (alice.send_voice(), "cannot use voice messages"),
            (alice.send_location(46.2, 6.1), "cannot use locations"),
        ]
        for send, expected in cases:
            await send
            await alice.wait_for(expected, timeout=WAIT)
        # An image sent as a file (uncompressed) is a photo like any other.
        big = jpeg_bytes(make_skin_photo(3000, 2000, seed=11), exif_orientation=6, gps=True)
        await alice.send_document(big, "IMG_0001.JPG", "image/jpeg")
        ack = await alice.wait_for(RECEIVED, timeout=WAIT)
        assert "2 photos received. Send up to 3 more" in ack.text
        await finish_and_send(alice)
    (request,) = world.api.requests
    assert len(request.files) == 2


async def test_a_photo_telegram_cannot_hand_over_is_left_out_and_the_next_one_is_taken(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot():
        await at_photos(alice)
        world.telegram.fail_next("getFile", status=400, description="Bad Request: try again")
        await alice.send_photo(photo(1))
        await alice.wait_for("could not fetch that photo", timeout=WAIT)
        await alice.send_photo(photo(2))
        ack = await alice.wait_for(RECEIVED, timeout=WAIT)
        assert (
            "1 photo received. Send up to 4 more" in ack.text
        )  # the one that failed is not counted
        result = await finish_and_send(alice)
        # The photos all went to the API (the count is not shown to the person).
        assert len(world.api.requests[-1].files) == 1
        assert MESSAGES["result_caveat_one_photo"] in result.text
    (request,) = world.api.requests
    assert len(request.files) == 1


class HeldChecks:
    """The bot's photo checks, made to wait at the start of decoding until `go_on()`."""

    def __init__(self) -> None:
        self.waiting = 0  # checks that reached the decoding and wait there
        # The newest message in the chat when they went on: later ones have higher ids.
        self.opened_after: int | None = None
        self._arrived = asyncio.Event()
        self._go = asyncio.Event()

    async def hold(self) -> None:
        self.waiting += 1
        self._arrived.set()
        self._arrived = asyncio.Event()
        await self._go.wait()

    async def reached(self, count: int) -> None:
        """Until `count` checks wait here."""
        async with asyncio.timeout(WAIT):
            while self.waiting < count:
                await self._arrived.wait()

    def go_on(self, user: FakeUser) -> None:
        self.opened_after = max(user.chat.messages, default=0)
        self._go.set()


def hold_back_checks(application: object, monkeypatch: pytest.MonkeyPatch) -> HeldChecks:
    """Make the bot's photo checks wait until the returned HeldChecks lets them go on."""
    services: Services = application.bot_data[SERVICES_KEY]  # type: ignore[attr-defined]
    checks = HeldChecks()
    prepare_now = services.photos.prepare

    async def held_back(data: bytes) -> PreparedPhoto:
        await checks.hold()
        return await prepare_now(data)

    monkeypatch.setattr(services.photos, "prepare", held_back)
    return checks


async def test_done_pressed_while_a_photo_is_checked_waits_for_the_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Photos are fetched and decoded in the background. An earlier "Done" pressed before the
    # check of a newer photo ends must not move on with it: the person hears first that it
    # cannot be used.
    alice = world.person()
    async with world.bot() as application:
        await at_photos(alice)
        first_ack = await send_photos(alice, 1)
        checks = hold_back_checks(application, monkeypatch)
        damaged = jpeg_bytes(make_skin_photo(640, 480, seed=9))[:3000]
        await alice.send_document(damaged, "cut.jpg", "image/jpeg")
        await checks.reached(1)
        early = await alice.press("✅ Done", message=first_ack)
        await world.telegram.handed_out()  # the bot has "Done" while the check waits
        checks.go_on(alice)
        refusal = await alice.wait_for("damaged or incomplete", timeout=WAIT)
        # The acknowledgement pressed was replaced by the one that says so: the early press
        # changed nothing, and Done on the new one goes on.
        assert (await early.answer()).text == MESSAGES["stale_button"]
        assert first_ack.deleted
        await alice.press("✅ Done", message=refusal)
        await skip_everything(alice)
        assert checks.opened_after is not None
        assert checks.opened_after < refusal.message_id
        # Done turned that acknowledgement into the questions.
        assert any("year of birth" in str(v.get("text")) for v in refusal.edits)
        await alice.press("📤 Send for analysis")
        result = await alice.wait_for("AI estimate (check", timeout=WAIT)
        # The photos all went to the API (the count is not shown to the person).
        assert len(world.api.requests[-1].files) == 1
        assert MESSAGES["result_caveat_one_photo"] in result.text
    (request,) = world.api.requests
    assert len(request.files) == 1


async def test_a_photo_being_checked_does_not_hold_up_the_next_update(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check (decoding, shrinking, blur and light) runs in the background: the next photo is
    # already fetched while the first is still being checked, and nothing is acknowledged
    # before both checks end. With the shortest quiet time, an acknowledgement that did not wait
    # for the checks would be sent while they are held.
    alice = world.person()
    async with world.bot(album_quiet_s=0.05) as application:
        await at_photos(alice)
        checks = hold_back_checks(application, monkeypatch)
        await alice.send_photo(photo(1))
        await alice.send_photo(photo(2))
        await checks.reached(2)  # the second was fetched and checked while the first waited
        assert len(world.telegram.calls_to("getFile")) == 2
        await world.updates_handled()
        checks.go_on(alice)
        ack = await alice.wait_for(RECEIVED, timeout=WAIT)
        assert checks.opened_after is not None and ack.message_id > checks.opened_after
        assert "2 photos received. Send up to 3 more" in ack.text
        assert held(application) == 2


async def test_big_files_are_fetched_only_as_many_as_their_bytes_allow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file may be up to PHOTO_MAX_BYTES, Telegram says how big before it is fetched, and a
    # fetched file stays in memory until it is checked: the bytes fetched at once are bounded.
    alice = world.person()
    files = [png_bytes(make_skin_photo(900, 700, seed=n)) for n in range(1, 4)]
    async with world.bot() as application:
        await at_photos(alice)
        services: Services = application.bot_data[SERVICES_KEY]
        budget = DownloadBudget(int(1.5 * max(len(f) for f in files)))
        monkeypatch.setattr(services.intake, "downloads", budget)
        checks = hold_back_checks(application, monkeypatch)
        for number, data in enumerate(files, start=1):
            await alice.send_document(data, f"skin{number}.png", "image/png")
        await checks.reached(1)
        await until(lambda: budget.waiting == 2, "the other two to wait for their bytes")
        fetched_while_held = len(world.telegram.calls_to("getFile"))
        checks.go_on(alice)
        ack = await alice.wait_for(RECEIVED, timeout=WAIT)
        assert "3 photos received. Send up to 2 more" in ack.text
    assert fetched_while_held == 1
    assert len(world.telegram.calls_to("getFile")) == 3
    assert budget.in_use == 0


async def test_a_burst_of_photos_is_fetched_only_a_few_at_a_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A downloaded photo stays in memory until it is checked, so only a few are fetched at once;
    # the others wait their turn as Telegram file ids, and none is lost.
    alice = world.person()
    async with world.bot() as application:
        await at_photos(alice)
        services: Services = application.bot_data[SERVICES_KEY]
        monkeypatch.setattr(services.intake, "checks", asyncio.Semaphore(2))
        checks = hold_back_checks(application, monkeypatch)
        for n in range(1, 5):
            await alice.send_photo(photo(n))
        await checks.reached(2)
        await world.updates_handled()  # every photo's check has started
        fetched_while_held = len(world.telegram.calls_to("getFile"))
        checks.go_on(alice)
        ack = await alice.wait_for(RECEIVED, timeout=WAIT)
        assert "4 photos received. Send up to 1 more" in ack.text
        assert len(world.telegram.calls_to("getFile")) == 4
    assert fetched_while_held == 2
