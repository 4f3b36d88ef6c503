"""The fake Telegram speaks the real Bot API: PTB's own classes parse every answer it gives, and
the real Bot and Application work against it end to end."""

from __future__ import annotations

import asyncio
import copy
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    ChatFullInfo,
    ChatMember,
    File,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    Update,
    User,
    WebhookInfo,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.plugin import (
    application_builder,
    bot_for,
    bot_via,
    running_application,
)
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeGroup, FakeUser

# What each method's "result" is, in PTB's classes; None means the answer is plain `true`.
RESULT_TYPES: dict[str, tuple[type[TelegramObject], bool] | None] = {
    "getme": (User, False),
    "getupdates": (Update, True),
    "getwebhookinfo": (WebhookInfo, False),
    "getmycommands": (BotCommand, True),
    "sendmessage": (Message, False),
    "editmessagetext": (Message, False),
    "editmessagecaption": (Message, False),
    "editmessagereplymarkup": (Message, False),
    "sendphoto": (Message, False),
    "senddocument": (Message, False),
    "sendmediagroup": (Message, True),
    "getfile": (File, False),
    "getchat": (ChatFullInfo, False),
    "getchatmember": (ChatMember, False),
}


def assert_fully_understood(obj: object, path: str = "result") -> None:
    """PTB keeps fields it does not know in api_kwargs; the fake must not invent any."""
    if isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            assert_fully_understood(item, f"{path}[{index}]")
        return
    if not isinstance(obj, TelegramObject):
        return
    assert not obj.api_kwargs, f"{path}: fields PTB does not know: {dict(obj.api_kwargs)}"
    for name, value in obj._get_attrs(recursive=False).items():
        assert_fully_understood(value, f"{path}.{name}")


def validate_answer(method: str, result: Any, bot: Bot) -> None:
    result = copy.deepcopy(result)  # de_json may consume the dict it is given
    expected = RESULT_TYPES.get(method.lower())
    if expected is None:
        assert result is True, f"{method} answered {result!r}"
        return
    cls, many = expected
    if many:
        assert isinstance(result, list), f"{method} must answer a list"
        parsed: object = [cls.de_json(item, bot) for item in result]
    else:
        assert isinstance(result, dict), f"{method} must answer an object"
        parsed = cls.de_json(result, bot)
    assert_fully_understood(parsed, method)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake, with every successful answer it gave checked by PTB after the test."""
    async with FakeTelegram() as server:
        yield server
        checker = Bot(server.token)
        for call in server.calls:
            if call.status == 200:
                validate_answer(call.method, call.result, checker)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with bot_for(fake) as real_bot:
        yield real_bot


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return FakeUser(fake, "Alice", username="alice_test")


def jpeg(
    width: int = 1200, height: int = 900, colour: tuple[int, int, int] = (200, 120, 90)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


async def raw_post(fake: FakeTelegram, path: str, **data: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{fake.url}{path}", data=data)


async def fetch_updates(bot: Bot, offset: int | None = None) -> list[Update]:
    return list(await bot.get_updates(offset=offset, timeout=0))


# ---------------------------------------------------------------- protocol and errors


async def test_wrong_token_and_unknown_method_answer_like_telegram(fake: FakeTelegram) -> None:
    wrong = await raw_post(fake, "/bot123456789:AAwrongwrongwrongwrongwrongwrong12/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    malformed = await raw_post(fake, "/botnot-a-token/getMe")
    assert malformed.status_code == 404
    unknown = await raw_post(fake, f"/bot{fake.token}/sendHologram", chat_id="1")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    # Method names are case-insensitive in the Bot API.
    me = await raw_post(fake, f"/bot{fake.token}/GETME")
    assert me.json()["ok"] is True
    bad = Bot("123456789:AAwrongwrongwrongwrongwrongwrong12", base_url=fake.base_url)
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        await bad.initialize()
    await bad.shutdown()


async def test_real_bot_get_me_commands_and_webhook(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == int(fake.token.split(":")[0])
    assert me.username == fake.bot_user["username"]

    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("help", "How it works")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start Now", "bad")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL must be provided"):
        await bot.set_webhook("http://127.0.0.1/hook")
    await bot.set_webhook("https://bot.example/hook", allowed_updates=["message"])
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example/hook" and info.allowed_updates == ("message",)
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == ()


# PTB's own RetryAfter.__str__ reads the deprecated int form of retry_after.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_failures_reach_the_bot_as_telegram_errors(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    fake.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(alice.chat_id, "hi")
    assert "Retry in 7 seconds" in str(flood.value)
    fake.fail_next("sendmessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(alice.chat_id, "hi")
    sent = await bot.send_message(alice.chat_id, "hi")
    assert sent.text == "hi" and [m.text for m in alice.messages] == ["hi"]
    # The calls answered can be waited for as events, the failed ones apart.
    assert len(await fake.wait_for_answers("sendMessage", 2, failed=True)) == 2
    assert len(await fake.wait_for_answers("sendMessage", 3)) == 3
    later = asyncio.create_task(fake.wait_for_answers("sendMessage", 4))
    await bot.send_message(alice.chat_id, "again")
    assert len(await later) == 4
    with pytest.raises(AssertionError, match=r"waited 0\.1 s for 5 answers to sendMessage"):
        await fake.wait_for_answers("sendMessage", 5, timeout=0.1)


# ---------------------------------------------------------------- sending and editing


async def test_send_message_html_keyboard_and_reply(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    question = await alice.send("Is it serious? 🤔")
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("I agree", callback_data="consent:yes")],
            [InlineKeyboardButton("Terms", url="https://modelderm.com")],
        ]
    )
    html = "👋 <b>Welcome</b> &amp; <i>read</i> the <a href='https://x.org'>terms</a>, then /start"
    sent = await bot.send_message(
        alice.chat_id,
        html,
        parse_mode="HTML",
        reply_markup=keyboard,
        reply_to_message_id=question.message_id,
    )
    assert sent.text == "👋 Welcome & read the terms, then /start"
    # UTF-16 offsets: PTB cuts the right substrings only if the fake counted like Telegram.
    by_type = {e.type: text for e, text in sent.parse_entities().items()}
    assert by_type == {
        MessageEntity.BOLD: "Welcome",
        MessageEntity.ITALIC: "read",
        MessageEntity.TEXT_LINK: "terms",
        MessageEntity.BOT_COMMAND: "/start",
    }
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.message_id == question.message_id
    assert sent.message_id == question.message_id + 1
    assert sent.from_user is not None and sent.from_user.id == fake.bot_user["id"]

    seen = await alice.next_reply()
    assert seen.message_id == sent.message_id
    assert seen.text == sent.text and seen.raw_text == html and seen.parse_mode == "HTML"
    assert seen.buttons == ["I agree", "Terms"] and seen.button_rows == [["I agree"], ["Terms"]]
    assert seen.reply_to_message_id == question.message_id


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"text": "   "}, "Message text is empty"),
        ({"text": "a<br>b", "parse_mode": "HTML"}, '(?i)unsupported start tag "br"'),
        ({"text": "<b>open", "parse_mode": "HTML"}, "(?i)can't find end tag"),
        ({"text": "Done. Thanks!", "parse_mode": "MarkdownV2"}, "(?i)character '.' is reserved"),
        ({"text": "x" * 4097}, "Message is too long"),
        ({"text": "hi", "reply_to_message_id": 999}, "Message to be replied not found"),
        (
            {
                "text": "hi",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("x", callback_data="y" * 65)]]
                ),
            },
            "Button_data_invalid",
        ),
    ],
)
async def test_bad_send_message_is_refused_like_telegram(
    bot: Bot, alice: FakeUser, kwargs: dict[str, Any], description: str
) -> None:
    with pytest.raises(BadRequest, match=description):
        await bot.send_message(alice.chat_id, **kwargs)
    assert alice.messages == []


async def test_markdown_v2_is_parsed(bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(
        alice.chat_id,
        r"*Top* _result_: 42\.5 %\! [more](https://x.org/a\(b\))",
        parse_mode="MarkdownV2",
    )
    assert sent.text == "Top result: 42.5 %! more"
    link = next(e for e in sent.entities if e.type == MessageEntity.TEXT_LINK)
    assert link.url == "https://x.org/a(b)"
    assert {e.type: t for e, t in sent.parse_entities().items()}[MessageEntity.BOLD] == "Top"


async def test_unknown_chat_blocked_user_and_left_group(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hi")
    earlier = await bot.send_message(alice.chat_id, "sent before the block")
    alice.chat.blocked_bot = True
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "hi")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.edit_message_text("edited", alice.chat_id, earlier.message_id)
    group = FakeGroup(fake, "Clinic", [alice])
    assert await bot.leave_chat(group.id)
    with pytest.raises(Forbidden, match="not a member of the group chat"):
        await bot.send_message(group.id, "hi")


async def test_protected_content_is_marked_and_stays_through_edits(
    bot: Bot, alice: FakeUser
) -> None:
    sent = await bot.send_message(alice.chat_id, "Analysing…", protect_content=True)
    assert sent.has_protected_content is True
    edited = await bot.edit_message_text("The result", alice.chat_id, sent.message_id)
    assert isinstance(edited, Message) and edited.has_protected_content is True
    free = await bot.send_message(alice.chat_id, "Forward me", protect_content=False)
    assert not free.has_protected_content
    album = await bot.send_media_group(
        alice.chat_id,
        [InputMediaPhoto(jpeg(40, 30, (90, 40, 40))), InputMediaPhoto(jpeg(30, 40, (40, 90, 40)))],
        protect_content=True,
    )
    assert all(m.has_protected_content for m in album)
    assert [m.protected for m in alice.messages] == [True, False, True, True]


async def test_edits_not_modified_missing_and_keyboard_dropped(bot: Bot, alice: FakeUser) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done")]])
    sent = await bot.send_message(alice.chat_id, "Photo 1 of 5 received", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Photo 1 of 5 received", alice.chat_id, sent.message_id, reply_markup=keyboard
        )
    edited = await bot.edit_message_text(
        "Photo <b>2</b> of 5 received",
        alice.chat_id,
        sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    view = alice.messages[0]
    assert view.text == "Photo 2 of 5 received" and view.buttons == ["Done"]
    assert [v["text"] for v in view.edits] == ["Photo 1 of 5 received"]
    # An edit that does not repeat the keyboard removes it, as on Telegram.
    await bot.edit_message_text("All photos received", alice.chat_id, sent.message_id)
    assert view.buttons == [] and len(view.edits) == 2
    await bot.edit_message_reply_markup(alice.chat_id, sent.message_id, reply_markup=keyboard)
    assert view.buttons == ["Done"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.chat_id, sent.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.chat_id, 9999)
    mine = await alice.send("my own words")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", alice.chat_id, mine.message_id)
    assert await bot.delete_message(alice.chat_id, sent.message_id)
    assert view.deleted and alice.messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.chat_id, sent.message_id)


async def test_deleting_in_a_group_follows_the_bot_api_limits(fake: FakeTelegram, bot: Bot) -> None:
    nurse = FakeUser(fake, "Nurse")
    group = FakeGroup(fake, "Clinic", [nurse])
    own = await bot.send_message(group.id, "a card")
    theirs = await nurse.in_chat(group).send("a clinician's note")
    # A bot that is only a member deletes its own messages, not other people's.
    with pytest.raises(BadRequest, match="Message can't be deleted"):
        await bot.delete_message(group.id, theirs.message_id)
    group.set_member_status(fake.bot_user["id"], "administrator")
    assert await bot.delete_message(group.id, theirs.message_id)
    # Nothing older than 48 hours, whoever sent it and whatever the bot's rights.
    fake.age_messages(group.id, 48 * 3600)
    with pytest.raises(BadRequest, match="Message can't be deleted"):
        await bot.delete_message(group.id, own.message_id)
    group.set_member_status(fake.bot_user["id"], "left")
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.delete_message(group.id, own.message_id)
    group.set_member_status(fake.bot_user["id"], "member")
    recent = await bot.send_message(group.id, "a fresh card")
    in_group = nurse.in_chat(group)
    seen = in_group.messages[-1]
    assert seen.message_id == recent.message_id
    deleting = asyncio.create_task(bot.delete_message(group.id, recent.message_id))
    await in_group.wait_until_deleted([seen])
    assert await deleting and seen.deleted


async def test_chat_action_and_reply_keyboard(bot: Bot, alice: FakeUser) -> None:
    await bot.send_chat_action(alice.chat_id, "typing")
    assert alice.chat_actions == ["typing"]
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(alice.chat_id, "dancing")
    markup = ReplyKeyboardMarkup(
        [["Mine", "Someone else's"], [KeyboardButton("Share phone", request_contact=True)]],
        one_time_keyboard=True,
    )
    await bot.send_message(alice.chat_id, "Whose skin?", reply_markup=markup)
    shown = await alice.next_reply()
    assert shown.raw.get("reply_markup") is None  # Telegram does not echo reply keyboards
    assert shown.reply_keyboard == [["Mine", "Someone else's"], ["Share phone"]]
    assert alice.reply_keyboard == shown.reply_keyboard
    pressed = await alice.press("Mine")
    assert pressed.sent is not None and pressed.sent.text == "Mine"
    assert alice.reply_keyboard is None  # one-time keyboards hide after use
    await bot.send_message(alice.chat_id, "ok", reply_markup=markup)
    contact = await alice.press("Share phone")
    assert contact.sent is not None and "contact" in contact.sent.raw
    await bot.send_message(alice.chat_id, "bye", reply_markup=ReplyKeyboardRemove())
    assert alice.reply_keyboard is None
    updates = await fetch_updates(bot)
    assert [u.message.text for u in updates if u.message] == ["Mine", None]
    assert updates[1].message is not None and updates[1].message.contact is not None


# ---------------------------------------------------------------- updates the person makes


async def test_every_kind_of_user_message_parses_as_an_update(bot: Bot, alice: FakeUser) -> None:
    await alice.send("/start@modelderm_test_bot")
    await alice.send("see https://modelderm.com #skin @someone_else")
    await alice.send_photo(jpeg(), caption="left arm")
    await alice.send_document(jpeg(), "lesion.jpg", "image/jpeg", caption="as a file")
    await alice.send_document(b"%PDF-1.4 fake", "report.pdf")
    await alice.send_video()
    await alice.send_sticker()
    await alice.send_voice()
    await alice.send_location(46.2, 6.1)
    await alice.send_contact("+41000000000")
    updates = await fetch_updates(bot)
    messages = [u.message for u in updates]
    assert all(m is not None for m in messages)
    command, text, photo, image_doc, pdf, video, sticker, voice, location, contact = messages
    assert command and command.entities[0].type == "bot_command" and command.entities[0].offset == 0
    assert text and {e.type for e in text.entities} == {"url", "hashtag", "mention"}
    assert photo and photo.caption == "left arm"
    # A 1200 x 900 photo: Telegram's 90, 320 and 800 px sizes, then the photo itself.
    assert [(s.width, s.height) for s in photo.photo] == [
        (90, 68),
        (320, 240),
        (800, 600),
        (1200, 900),
    ]
    assert image_doc and image_doc.document and image_doc.document.thumbnail is not None
    assert pdf and pdf.document and pdf.document.thumbnail is None
    assert pdf.document.mime_type == "application/pdf"
    assert video and video.video and sticker and sticker.sticker and voice and voice.voice
    assert location and location.location and contact and contact.contact
    assert contact.contact.user_id == alice.id
    assert [m.message_id for m in messages if m] == list(range(1, 11))
    assert len({u.update_id for u in updates}) == 10
    assert filters.COMMAND.check_update(updates[0])
    assert not filters.COMMAND.check_update(updates[1])


async def test_photo_sizes_are_real_downscaled_images(bot: Bot, alice: FakeUser) -> None:
    original = jpeg(1600, 1200)
    await alice.send_photo(original)
    [update] = await fetch_updates(bot)
    assert update.message is not None
    sizes = update.message.photo
    assert [(s.width, s.height) for s in sizes] == [(90, 68), (320, 240), (800, 600), (1600, 1200)]
    assert len({s.file_id for s in sizes}) == 4 and len({s.file_unique_id for s in sizes}) == 4
    largest = await (await bot.get_file(sizes[-1].file_id)).download_as_bytearray()
    assert bytes(largest) == original
    small = await (await sizes[0].get_file()).download_as_bytearray()
    assert Image.open(io.BytesIO(bytes(small))).size == (90, 68)
    middle = await (await sizes[2].get_file()).download_as_bytearray()
    assert Image.open(io.BytesIO(bytes(middle))).size == (800, 600)


async def test_a_small_photo_has_no_sizes_as_big_as_itself(bot: Bot, alice: FakeUser) -> None:
    await alice.send_photo(jpeg(600, 450))
    [update] = await fetch_updates(bot)
    assert update.message is not None
    assert [(s.width, s.height) for s in update.message.photo] == [(90, 68), (320, 240), (600, 450)]
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_offset_limit_and_negative_offset(bot: Bot, alice: FakeUser) -> None:
    for word in ("one", "two", "three"):
        await alice.send(word)
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates(timeout=0)  # nothing confirmed yet: all three again
    assert len(again) == 3
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["three"]
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.update_id for u in last] == [rest[-1].update_id]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()


async def test_long_poll_waits_then_returns_as_soon_as_an_update_comes(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=1))
    await fake.handed_out()  # the poll waits, with nothing to hand out
    assert not waiting.done()
    assert await waiting == ()  # ... until its timeout

    # A poll far longer than the test's own timeout: it can only pass if the update ends it.
    polling = asyncio.create_task(bot.get_updates(timeout=60))
    await fake.handed_out()
    await alice.send("hello")
    async with asyncio.timeout(10):
        updates = await polling
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_second_poller_terminates_the_first(bot: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.handed_out()  # the first poll waits
    async with bot_for(fake) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_allowed_updates_drops_other_kinds(bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(
        alice.chat_id,
        "?",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="y")]]),
    )
    await alice.press("Yes", message=await alice.next_reply())
    await alice.send("text")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["text"]
    assert len(updates) == 1 and sent.message_id == 1


# ---------------------------------------------------------------- buttons


async def test_press_answer_and_stale_press(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("I agree", callback_data="agree"),
                InlineKeyboardButton("No", callback_data="no"),
            ]
        ]
    )
    old = await bot.send_message(alice.chat_id, "Terms v1", reply_markup=keyboard)
    await bot.send_message(alice.chat_id, "Terms v2", reply_markup=keyboard)
    press = await alice.press("I agree")
    [update] = await fetch_updates(bot)
    query = update.callback_query
    assert isinstance(query, CallbackQuery) and query.data == "agree"
    assert query.message is not None and query.message.text == "Terms v2"  # the newest
    assert query.from_user.id == alice.id
    assert await query.answer("Thanks", show_alert=True)
    answer = await press.answer()
    assert (answer.text, answer.show_alert, answer.data) == ("Thanks", True, "agree")
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")

    stale = await alice.press("No", message=alice.messages[0])
    [update] = await fetch_updates(bot, offset=update.update_id + 1)
    assert update.callback_query and update.callback_query.message
    assert update.callback_query.message.message_id == old.message_id
    assert not stale.answered
    assert [a.text for a in alice.callback_answers] == ["Thanks"]

    with pytest.raises(AssertionError, match=r"no button 'Maybe'.*\['I agree', 'No'\]"):
        await alice.press("Maybe")


async def test_waiting_in_vain_fails_with_the_chat_history(bot: Bot, alice: FakeUser) -> None:
    await bot.send_message(alice.chat_id, "Send a photo please")
    await alice.next_reply()
    with pytest.raises(BadRequest):
        await bot.send_message(alice.chat_id, "<p>x</p>", parse_mode="HTML")
    with pytest.raises(AssertionError) as failure:
        await alice.next_reply(timeout=0.2)
    report = str(failure.value)
    assert "Send a photo please" in report
    assert 'Unsupported start tag "p"' in report
    assert "never completed a getUpdates" in report


async def test_wait_for_sees_edits(bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(alice.chat_id, "Analysing…")

    async def finish() -> None:
        await asyncio.sleep(0.05)
        await bot.edit_message_text("Result: eczema", alice.chat_id, sent.message_id)

    task = asyncio.create_task(finish())
    result = await alice.wait_for("Result")
    assert result.message_id == sent.message_id and result.edited
    await task
    await alice.expect_no_reply()


# ---------------------------------------------------------------- media the bot sends


async def test_bot_sends_photos_documents_and_albums(bot: Bot, alice: FakeUser) -> None:
    picture = jpeg(800, 600)
    photo = await bot.send_photo(
        alice.chat_id, picture, caption="<b>Your photo</b>", parse_mode="HTML"
    )
    assert photo.caption == "Your photo" and len(photo.photo) == 3
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == picture
    again = await bot.send_photo(alice.chat_id, photo.photo[-1].file_id)
    assert [p.file_id for p in again.photo] == [p.file_id for p in photo.photo]
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(alice.chat_id, "AgACunknown")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(alice.chat_id, b"not an image")

    document = await bot.send_document(alice.chat_id, b"report body", filename="report.txt")
    assert document.document and document.document.file_name == "report.txt"
    data = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
    assert bytes(data) == b"report body"

    images = [jpeg(300 + i, 200, (i * 40, 90, 90)) for i in range(3)]
    album = await bot.send_media_group(
        alice.chat_id,
        [
            InputMediaPhoto(images[0], caption="three views"),
            InputMediaPhoto(images[1]),
            InputMediaPhoto(images[2]),
        ],
    )
    assert len(album) == 3 and len({m.media_group_id for m in album}) == 1
    assert album[0].caption == "three views"
    for message, image in zip(album, images, strict=True):
        blob = await (await bot.get_file(message.photo[-1].file_id)).download_as_bytearray()
        assert bytes(blob) == image
    with pytest.raises(BadRequest, match="media group"):
        await bot.send_media_group(alice.chat_id, [InputMediaPhoto(images[0])])
    edited = await bot.edit_message_caption(alice.chat_id, photo.message_id, caption="renamed")
    assert isinstance(edited, Message) and edited.caption == "renamed"
    assert [m.message_id for m in alice.messages] == list(range(1, 7))


async def test_get_chat_and_chat_members_in_a_group(fake: FakeTelegram, bot: Bot) -> None:
    alice = FakeUser(fake, "Alice")
    bob = FakeUser(fake, "Bob", last_name="Smith", username="bob_nurse")
    group = FakeGroup(fake, "Dermatology ward", [alice, bob], supergroup=True)
    group.set_member_status(bob, "administrator")
    carol = FakeUser(fake, "Carol")
    private = await bot.get_chat(bob.chat_id)
    assert private.type == "private" and private.username == "bob_nurse"
    info = await bot.get_chat(group.id)
    assert info.type == "supergroup" and info.title == "Dermatology ward"
    statuses = {
        user.user["first_name"]: (await bot.get_chat_member(group.id, user.id)).status
        for user in (alice, bob, carol)
    }
    assert statuses == {"Alice": "member", "Bob": "administrator", "Carol": "left"}
    for status in ("creator", "restricted", "kicked"):
        group.set_member_status(carol, status)
        assert (await bot.get_chat_member(group.id, carol.id)).status == status
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group.id, 5)

    alice_there, bob_there = alice.in_chat(group), bob.in_chat(group)
    await alice_there.send("/start")
    await bob_there.send("hello all")
    updates = await fetch_updates(bot)
    assert [
        (u.effective_chat.id, u.effective_user.id)
        for u in updates
        if u.effective_chat and u.effective_user
    ] == [
        (group.id, alice.id),
        (group.id, bob.id),
    ]
    await bot.send_message(group.id, "Please write to me privately")
    assert (await alice_there.next_reply()).text == (await bob_there.next_reply()).text
    assert alice.messages == []  # nothing in Alice's private chat


# ---------------------------------------------------------------- the real Application


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        f"echo: {update.effective_message.text}",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]]),
    )


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html("<b>Welcome</b>")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("pressed")
    await query.edit_message_text(f"you pressed {query.data}")


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.photo
    data = await (await message.photo[-1].get_file()).download_as_bytearray()
    album = f" in album {message.media_group_id}" if message.media_group_id else ""
    await message.reply_text(f"got {len(data)} bytes{album}")


def echo_app(fake: FakeTelegram) -> Application:  # type: ignore[type-arg]
    app = application_builder(fake).build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(MessageHandler(filters.PHOTO, _photo))
    app.add_handler(CallbackQueryHandler(_button))
    return app


@pytest.mark.filterwarnings("error")
async def test_application_end_to_end(fake: FakeTelegram) -> None:
    alice = FakeUser(fake, "Alice")
    bob = FakeUser(fake, "Bob")
    async with running_application(echo_app(fake)):
        await alice.send("/start")
        assert (await alice.next_reply()).text == "Welcome"

        # Long poll: the Application is waiting in a 10 s getUpdates; the reply comes at once
        # (next_reply gives up after 5 s).
        await fake.handed_out()
        await bob.send("hello")
        reply = await bob.next_reply()
        assert reply.text == "echo: hello" and reply.buttons == ["Again"]

        press = await bob.press("Again")
        assert (await press.answer()).text == "pressed"
        edited = await bob.wait_for("you pressed again")
        assert edited.message_id == reply.message_id and edited.buttons == []

        picture = jpeg(640, 480)
        await alice.send_photo(picture)
        assert (await alice.next_reply()).text == f"got {len(picture)} bytes"

        album = [jpeg(500, 400, (10 * i, 50, 50)) for i in range(3)]
        sent = await alice.send_album(album, caption="three")
        group_id = sent[0].media_group_id
        replies = sorted([(await alice.next_reply()).text for _ in album])
        assert replies == sorted(f"got {len(a)} bytes in album {group_id}" for a in album)
        assert alice.chat_actions == [] and bob.callback_answers[0].text == "pressed"
    assert fake.pending_updates == 0  # the Application confirmed everything on shutdown


async def test_application_shutdown_is_prompt_while_long_polling(fake: FakeTelegram) -> None:
    # Stopping does not wait for the 30 s poll to end (the test would time out first).
    async with asyncio.timeout(10):
        async with running_application(echo_app(fake), poll_timeout=30):
            await fake.handed_out()
    # Only the fake server's own idle connection handlers may remain.
    leftovers = [
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and "RequestHandler" not in repr(t.get_coro())
    ]
    assert leftovers == []


def test_pytest_plugin_fixtures_are_registered(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("tests.fakes.plugin")


async def test_plugin_fixtures_work_together(
    fake_telegram: FakeTelegram, tg_user: FakeUser, fake_bot: Bot
) -> None:
    await fake_bot.send_message(tg_user.chat_id, "hi")
    assert (await tg_user.next_reply()).text == "hi"


async def test_album_arrives_in_quick_succession_possibly_split(bot: Bot, alice: FakeUser) -> None:
    await bot.send_message(alice.chat_id, "Send your photos")
    question = await alice.next_reply()
    sender = asyncio.create_task(alice.send_album([jpeg(), jpeg(), jpeg()], gap=0.05))
    first_batch = await bot.get_updates(timeout=5)
    assert len(first_batch) == 1  # a long poll answers as soon as the first item is there
    await sender
    rest = await bot.get_updates(offset=first_batch[-1].update_id + 1, timeout=0)
    messages = [u.message for u in (*first_batch, *rest) if u.message]
    assert len(messages) == 3 and len({m.media_group_id for m in messages}) == 1
    assert [m.message_id for m in messages] == [question.message_id + i for i in (1, 2, 3)]
    reply = await alice.send("these are all", reply_to=question)
    [update] = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
    assert update.message and update.message.reply_to_message
    assert update.message.reply_to_message.text == "Send your photos"
    assert reply.reply_to_message_id == question.message_id


# ---------------------------------------------------------------- several processes


async def test_each_process_url_names_its_calls_and_the_updates_it_was_handed(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    await alice.send("hello")
    await alice.send_photo(jpeg(600, 450))
    await bot.get_me()  # the plain URL: no process named
    async with bot_via(fake, "a") as first, bot_via(fake, "b") as second:
        handed = await first.get_updates(timeout=0)
        await first.send_message(alice.chat_id, "hi")
        # Not confirmed by the first process: Telegram hands them to the next poller again.
        again = await second.get_updates(timeout=0)
        assert [u.update_id for u in again] == [u.update_id for u in handed]
        assert await second.get_updates(offset=again[-1].update_id + 1, timeout=0) == ()
        assert again[1].message is not None
        photo = await second.get_file(again[1].message.photo[-1].file_id)
        downloaded = bytes(await photo.download_as_bytearray())

    a_calls = fake.calls_by("a")
    assert [c.method for c in a_calls] == ["getMe", "getUpdates", "sendMessage"]
    assert a_calls[-1].chat_id == alice.chat_id
    b_calls = fake.calls_by("b")
    assert [c.method for c in b_calls] == ["getMe", "getUpdates", "getUpdates", "getFile", "file"]
    stored = fake.files.by_path(b_calls[-1].file_path or "")
    assert stored is not None and stored.data == downloaded
    assert {c.via for c in fake.process_calls} == {"a", "b"}
    assert fake.calls_to("getMe")[0].via is None and fake.calls_to("sendMessage")[0].via == "a"
    ids = [u.update_id for u in handed]
    assert [(h.via, h.update_id, h.kind, h.chat_id) for h in fake.handouts] == [
        (via, update_id, "message", alice.chat_id) for via in ("a", "b") for update_id in ids
    ]
    # Confirmed by the offset of the second process's poll, from then on counted delivered.
    assert {update_id: via for update_id, (via, _) in fake.confirmed.items()} == dict.fromkeys(
        ids, "b"
    )
    assert fake.calls_by("a", since=b_calls[1].at) == []
    with pytest.raises(ValueError, match="process name"):
        fake.base_url_for("a/../b")
