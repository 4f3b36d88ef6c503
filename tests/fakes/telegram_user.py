"""A person talking to the bot through the fake Telegram: sends things, presses buttons, reads.

Everything a FakeUser does becomes an update in the fake's getUpdates queue, shaped as Telegram
delivers it; everything the bot sends to the chat can be awaited and inspected. Waits that time
out fail with an AssertionError that shows the last bot messages and the API errors the bot got,
because "no reply within 5 s" alone does not tell what went wrong.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram_server import (
    CallbackQueryRecord,
    ChatState,
    FakeTelegram,
    StoredMessage,
)
from tests.fakes.telegram_text import detect_entities

JSON = dict[str, Any]
Match = str | Callable[["ChatMessage"], bool]

DEFAULT_TIMEOUT = 5.0


class ChatMessage:
    """A live view of one message in a chat: it shows edits as they happen."""

    def __init__(self, stored: StoredMessage) -> None:
        self._stored = stored

    @property
    def raw(self) -> JSON:
        """The Message object as Telegram would return it now."""
        return self._stored.data

    @property
    def message_id(self) -> int:
        return self._stored.message_id

    @property
    def chat_id(self) -> int:
        return self._stored.chat_id

    @property
    def from_bot(self) -> bool:
        return self._stored.from_bot

    @property
    def text(self) -> str:
        """What a person reads: the text or the caption, without formatting."""
        return self._stored.text

    @property
    def protected(self) -> bool:
        """Sent with protect_content: it cannot be forwarded or saved."""
        return bool(self._stored.data.get("has_protected_content"))

    @property
    def raw_text(self) -> str | None:
        """The text or caption exactly as the bot sent it (HTML/Markdown markup included)."""
        return self._stored.raw_text

    @property
    def parse_mode(self) -> str | None:
        return self._stored.parse_mode

    @property
    def entities(self) -> list[JSON]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def button_rows(self) -> list[list[str]]:
        rows = (self.raw.get("reply_markup") or {}).get("inline_keyboard") or []
        return [[button["text"] for button in row] for row in rows]

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline keyboard, row by row."""
        return [label for row in self.button_rows for label in row]

    def button(self, label: str) -> JSON | None:
        rows = (self.raw.get("reply_markup") or {}).get("inline_keyboard") or []
        return next((b for row in rows for b in row if b["text"] == label), None)

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard this message brought up, if any."""
        markup = self._stored.reply_keyboard
        if not markup or "keyboard" not in markup:
            return None
        return [[_reply_label(b) for b in row] for row in markup["keyboard"]]

    @property
    def removes_reply_keyboard(self) -> bool:
        return bool((self._stored.reply_keyboard or {}).get("remove_keyboard"))

    @property
    def photo(self) -> list[JSON] | None:
        photo = self.raw.get("photo")
        return list(photo) if photo else None

    @property
    def document(self) -> JSON | None:
        document = self.raw.get("document")
        return dict(document) if document else None

    @property
    def media_group_id(self) -> str | None:
        value = self.raw.get("media_group_id")
        return str(value) if value else None

    @property
    def reply_to_message_id(self) -> int | None:
        replied = self.raw.get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    @property
    def edits(self) -> list[JSON]:
        """Earlier versions of the message, oldest first (empty when never edited)."""
        return list(self._stored.history)

    @property
    def edited(self) -> bool:
        return bool(self._stored.history)

    @property
    def deleted(self) -> bool:
        return self._stored.deleted

    def __repr__(self) -> str:
        return f"<ChatMessage {_describe(self._stored)}>"


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    data: str
    message_id: int
    text: str | None
    show_alert: bool
    url: str | None


def _answer(query: CallbackQueryRecord) -> CallbackAnswer:
    return CallbackAnswer(
        query.id, query.data, query.message_id, query.text, query.show_alert, query.url
    )


class Press:
    """A button press. For an inline button `await press.answer()` waits for the bot's
    answerCallbackQuery; for a reply-keyboard button `sent` is the message it sent."""

    def __init__(
        self,
        user: FakeUser,
        query_id: str | None,
        data: str,
        sent: ChatMessage | None = None,
    ) -> None:
        self._user = user
        self.query_id = query_id
        self.data = data
        self.sent = sent

    @property
    def answered(self) -> bool:
        return self.query_id is not None and self._query().answered

    def _query(self) -> CallbackQueryRecord:
        if self.query_id is None:
            raise AssertionError(f"{self.data!r} is a reply-keyboard button: nothing to answer")
        return self._user.fake.callback_queries[self.query_id]

    async def answer(self, timeout: float = DEFAULT_TIMEOUT) -> CallbackAnswer:  # noqa: ASYNC109
        query = self._query()
        await self._user._until(
            lambda: query.answered, timeout, f"the bot to answer the press {self.data!r}"
        )
        return _answer(query)


class FakeGroup:
    """A group chat with several people; `user.in_chat(group)` makes a user talk there."""

    def __init__(
        self,
        fake: FakeTelegram,
        title: str,
        members: Sequence[FakeUser],
        *,
        supergroup: bool = False,
    ) -> None:
        self.fake = fake
        self.state = fake.add_group(title, [m.user for m in members], supergroup=supergroup)

    @property
    def id(self) -> int:
        return self.state.id

    def set_member_status(self, user: FakeUser | int, status: str) -> None:
        user_id = user if isinstance(user, int) else user.id
        self.fake.set_member_status(self.id, user_id, status)


class FakeUser:
    """One person. By default they talk in their private chat with the bot.

    `settled` waits until the bot has nothing left to do (tests/fakes/plugin.py's World gives
    the running bot's); without it, `expect_no_reply` looks at once, so the caller must know
    that nothing is in flight (a test driving a bare `telegram.Bot` itself, say).
    """

    def __init__(
        self,
        fake: FakeTelegram,
        first_name: str = "Alice",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
        settled: Callable[[], Awaitable[None]] | None = None,
        _user: JSON | None = None,
        _chat: ChatState | None = None,
    ) -> None:
        self.fake = fake
        self._settled = settled
        self.user: JSON = _user or fake.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
        )
        self.chat: ChatState = _chat or fake.private_chat(self.user)
        # Index into the chat's events: what next_reply/wait_for have already handed out.
        self._cursor = len(self.chat.events)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def chat_id(self) -> int:
        return self.chat.id

    def in_chat(self, group: FakeGroup) -> FakeUser:
        """The same person, talking in `group` (their own reading position there)."""
        if self.id not in group.state.members:
            group.state.members[self.id] = "member"
        return FakeUser(self.fake, settled=self._settled, _user=self.user, _chat=group.state)

    # ------------------------------------------------------------------ sending

    async def _send(self, content: JSON, reply_to: ChatMessage | int | None = None) -> ChatMessage:
        if reply_to is not None:
            target_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
            target = self.chat.messages[target_id]
            quoted = dict(target.data)
            quoted.pop("reply_to_message", None)
            content = {"reply_to_message": quoted, **content}
        stored = self.fake.add_user_message(self.chat, self.user, content)
        self.fake.inject_update("message", stored.data)
        await asyncio.sleep(0)
        return ChatMessage(stored)

    @staticmethod
    def _with_text(field: str, text: str) -> JSON:
        content: JSON = {field: text}
        entities = detect_entities(text, [])
        if entities:
            content["entities" if field == "text" else "caption_entities"] = entities
        return content

    async def send(self, text: str, *, reply_to: ChatMessage | int | None = None) -> ChatMessage:
        """A text message; "/command" gets its bot_command entity like in a real client."""
        if not text:
            raise ValueError("Telegram clients do not send empty messages")
        return await self._send(self._with_text("text", text), reply_to)

    async def edit(self, message: ChatMessage, text: str) -> ChatMessage:
        """Edit one of this person's own messages (its text, or a photo's caption)."""
        if message.from_bot:
            raise AssertionError("people can only edit their own messages")
        field = "caption" if "photo" in message.raw or "document" in message.raw else "text"
        self.fake.edit_user_message(message._stored, self._with_text(field, text))
        await asyncio.sleep(0)
        return message

    async def send_photo(
        self,
        image: bytes,
        caption: str | None = None,
        *,
        reply_to: ChatMessage | int | None = None,
        media_group_id: str | None = None,
    ) -> ChatMessage:
        sizes = self.fake.files.photo_sizes(image)
        self.fake.remember_photo(sizes)
        content: JSON = {"photo": sizes}
        if media_group_id:
            content["media_group_id"] = media_group_id
        if caption:
            content |= self._with_text("caption", caption)
        return await self._send(content, reply_to)

    async def send_document(
        self,
        data: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        thumbnail: bool = True,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        """A file; image files get a thumbnail like the apps make (unless thumbnail=False)."""
        document = self.fake.files.document(data, filename, mime_type, thumbnail=thumbnail)
        content: JSON = {"document": document}
        if caption:
            content |= self._with_text("caption", caption)
        return await self._send(content, reply_to)

    async def send_album(
        self,
        images: Sequence[bytes],
        caption: str | None = None,
        *,
        gap: float = 0.02,
    ) -> list[ChatMessage]:
        """2-10 photos as separate updates sharing a media_group_id, arriving a moment apart
        (so a bot's long poll may get them in more than one batch), caption on the first."""
        if not 2 <= len(images) <= 10:
            raise ValueError("an album has 2 to 10 items")
        group_id = str(secrets.randbits(62))
        sent = []
        for index, image in enumerate(images):
            if index:
                await asyncio.sleep(gap)
            sent.append(
                await self.send_photo(
                    image, caption if index == 0 else None, media_group_id=group_id
                )
            )
        return sent

    async def send_video(
        self,
        data: bytes | None = None,
        *,
        duration: int = 5,
        width: int = 640,
        height: int = 360,
        caption: str | None = None,
    ) -> ChatMessage:
        stored = self.fake.files.add(data or _opaque(b"\x00\x00\x00\x18ftypmp42"), "videos", ".mp4")
        video = {
            **self.fake.files.describe(stored),
            "width": width,
            "height": height,
            "duration": duration,
            "mime_type": "video/mp4",
        }
        content: JSON = {"video": video}
        if caption:
            content |= self._with_text("caption", caption)
        return await self._send(content)

    async def send_sticker(self, emoji: str = "🙂", *, animated: bool = False) -> ChatMessage:
        stored = self.fake.files.add(_opaque(b"RIFF\x00\x00\x00\x00WEBP"), "stickers", ".webp")
        sticker = {
            **self.fake.files.describe(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": animated,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
        }
        return await self._send({"sticker": sticker})

    async def send_voice(self, data: bytes | None = None, *, duration: int = 3) -> ChatMessage:
        stored = self.fake.files.add(data or _opaque(b"OggS"), "voice", ".oga")
        voice = {**self.fake.files.describe(stored), "duration": duration, "mime_type": "audio/ogg"}
        return await self._send({"voice": voice})

    async def send_location(self, latitude: float, longitude: float) -> ChatMessage:
        return await self._send({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(
        self, phone_number: str, first_name: str | None = None, *, own: bool = True
    ) -> ChatMessage:
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": first_name or self.user["first_name"],
        }
        if own:
            contact["user_id"] = self.id
        return await self._send({"contact": contact})

    # ------------------------------------------------------------------ buttons

    async def press(self, label: str, *, message: ChatMessage | None = None) -> Press:
        """Press a button by its label, like a person does.

        Inline buttons: the newest bot message in the chat with that label (or `message`, which
        may be an old one: a stale press) -> a callback_query update; returns a Press.
        Reply-keyboard buttons: sends the label as text (or the contact/location the button
        requests); the Press has it as `sent`.
        """
        if message is not None and message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted: nothing to press")
        candidates = [message] if message is not None else reversed(self.messages)
        for candidate in candidates:
            button = candidate.button(label)
            if button is None:
                continue
            if "callback_data" not in button:
                raise AssertionError(
                    f"button {label!r} does not send a callback (it is {sorted(button)})"
                )
            return await self.press_data(str(button["callback_data"]), message=candidate)
        if message is None and self.chat.reply_keyboard is not None:
            for row in self.chat.reply_keyboard["keyboard"]:
                for key in row:
                    if _reply_label(key) != label:
                        continue
                    if self.chat.reply_keyboard.get("one_time_keyboard"):
                        self.chat.reply_keyboard = None
                    if isinstance(key, dict) and key.get("request_contact"):
                        sent = await self.send_contact("+10000000000")
                    elif isinstance(key, dict) and key.get("request_location"):
                        sent = await self.send_location(46.2044, 6.1432)
                    else:
                        sent = await self.send(label)
                    return Press(self, None, label, sent)
        raise AssertionError(
            f"no button {label!r} to press in chat {self.chat_id}; "
            f"{self._available_buttons(message)}\n{self.diagnostics()}"
        )

    async def press_data(self, data: str, *, message: ChatMessage) -> Press:
        """A callback query with any data on any message (e.g. a forged or foreign press)."""
        query_id = self.fake.add_callback_query(self.user, message._stored, data)
        await asyncio.sleep(0)
        return Press(self, query_id, data)

    def _available_buttons(self, message: ChatMessage | None) -> str:
        if message is not None:
            return f"message {message.message_id} has buttons {message.buttons}"
        with_buttons = [m for m in self.messages if m.buttons]
        inline = with_buttons[-1].buttons if with_buttons else []
        keyboard = self.reply_keyboard
        return f"latest inline buttons: {inline}; reply keyboard: {keyboard}"

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard the person currently sees, if any."""
        markup = self.chat.reply_keyboard
        if markup is None:
            return None
        return [[_reply_label(k) for k in row] for row in markup["keyboard"]]

    # ------------------------------------------------------------------ reading

    @property
    def messages(self) -> list[ChatMessage]:
        """Every message the bot sent to this chat and did not delete, oldest first."""
        stored = self.chat.messages.values()
        return [ChatMessage(m) for m in stored if m.from_bot and not m.deleted]

    @property
    def last_message(self) -> ChatMessage | None:
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Answers to this person's presses in this chat, in the order the bot gave them."""
        return [
            _answer(event.query)
            for event in self.chat.events
            if event.kind == "answered" and event.query and event.query.user_id == self.id
        ]

    @property
    def chat_actions(self) -> list[str]:
        return list(self.chat.actions)

    async def next_reply(self, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        """The next new bot message in this chat not handed out yet (edits are skipped)."""
        found = await self._next_event(lambda event: event.kind == "sent", timeout, "a reply")
        return found

    async def wait_for(self, match: Match, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        """The first bot message sent or edited from now on (past the last one handed out)
        whose text contains `match`, or for which `match(message)` is true."""

        def wanted(event: Any) -> bool:
            if event.kind not in ("sent", "edited") or event.message.deleted:
                return False
            message = ChatMessage(event.message)
            return match in message.text if isinstance(match, str) else bool(match(message))

        return await self._next_event(wanted, timeout, f"a message matching {match!r}")

    async def wait_until_deleted(
        self,
        messages: Sequence[ChatMessage],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until the bot has deleted every one of `messages`."""
        ids = [m.message_id for m in messages]
        await self._until(
            lambda: all(m.deleted for m in messages), timeout, f"the bot to delete {ids}"
        )

    async def replies(
        self,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        return [await self.next_reply(timeout) for _ in range(count)]

    async def expect_no_reply(self) -> None:
        """Wait until the bot is settled, then fail if it sent or edited anything in this chat
        past what `next_reply`/`wait_for` have handed out."""
        if self._settled is not None:
            await self._settled()
        news = [
            event
            for event in self.chat.events[self._cursor :]
            if event.kind in ("sent", "edited") and event.message and event.message.from_bot
        ]
        if news:
            raise AssertionError(
                f"expected no reply, but the bot did: {_describe(news[0].message)}\n"
                f"{self.diagnostics()}"
            )

    async def _next_event(
        self, wanted: Callable[[Any], bool], within: float, what: str
    ) -> ChatMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            events = self.chat.events
            while self._cursor < len(events):
                event = events[self._cursor]
                self._cursor += 1
                if event.message is not None and event.message.from_bot and wanted(event):
                    return ChatMessage(event.message)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.user['first_name']} waited {within} s in chat {self.chat_id} "
                    f"for {what}, in vain.\n{self.diagnostics()}"
                )
            await self.chat.changed(remaining)

    async def _until(self, condition: Callable[[], bool], within: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"waited {within} s for {what}.\n{self.diagnostics()}")
            await self.chat.changed(remaining)

    def diagnostics(self, last: int = 5) -> str:
        """The chat's recent history and the bot's recent API errors, for failure messages."""
        lines = [f"last {last} messages in chat {self.chat_id} (> = bot):"]
        history = [m for m in self.chat.messages.values()][-last:]
        lines += [f"  {'>' if m.from_bot else '<'} {_describe(m)}" for m in history] or ["  none"]
        errors = self.fake.errors[-last:]
        if errors:
            lines.append("recent API errors the bot got:")
            lines += [f"  {e.method} -> {e.status} {e.description}" for e in errors]
        if self.fake.polls == 0:
            lines.append("the bot never completed a getUpdates call: is the Application polling?")
        if self.fake.pending_updates:
            lines.append(f"{self.fake.pending_updates} update(s) not yet confirmed by the bot")
        return "\n".join(lines)


def _reply_label(key: Any) -> str:
    return str(key["text"]) if isinstance(key, dict) else str(key)


def _describe(message: StoredMessage | None) -> str:
    if message is None:
        return "?"
    data = message.data
    kind = next(
        (
            k
            for k in ("photo", "document", "video", "sticker", "voice", "location", "contact")
            if k in data
        ),
        "text",
    )
    text = message.text.replace("\n", " | ")
    parts = [f"#{message.message_id} {kind}: {text[:120]!r}"]
    rows = (data.get("reply_markup") or {}).get("inline_keyboard") or []
    if rows:
        parts.append(f"buttons {[b['text'] for row in rows for b in row]}")
    if message.history:
        parts.append(f"edited {len(message.history)}x")
    if message.deleted:
        parts.append("deleted")
    return " ".join(parts)


def _opaque(magic: bytes) -> bytes:
    # Media the fake never decodes: a recognisable header plus random bytes.
    return magic + secrets.token_bytes(256)


__all__ = [
    "CallbackAnswer",
    "ChatMessage",
    "FakeGroup",
    "FakeUser",
    "Press",
]
