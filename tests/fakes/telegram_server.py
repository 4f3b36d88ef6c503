"""A fake Telegram Bot API server on 127.0.0.1 for driving the real python-telegram-bot stack.

The bot under test talks to it over real HTTP exactly as it talks to api.telegram.org:
`POST {url}/bot<token>/<method>` with query, urlencoded, multipart or JSON parameters (PTB sends
non-string values JSON-encoded and files as multipart parts, `attach://name` for media groups),
and downloads files from `{url}/file/bot<token>/<file_path>`. Answers have the Bot API's shapes
and its error descriptions, so bot code meets the same failures it would meet in production
("message is not modified", "chat not found", 429 with retry_after, ...).

People are played by `tests.fakes.telegram_user.FakeUser`, which injects updates through the
user-side methods of `FakeTelegram` (the ones under "what people do").

Several bot processes on one token (a leader and a standby) can each be given their own URL,
`base_url_for(via)` and `base_file_url_for(via)`: the same API under the path `/via/<via>`, so
the fake can tell which process made a call (`process_calls`) and to which process it handed
each update (`handouts`). The answers are the same as on the plain URL.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import copy
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.fakes.telegram_files import MAX_DOWNLOAD_BYTES, FileStore, StoredFile
from tests.fakes.telegram_text import EntityParseError, detect_entities, parse_formatted

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-0123456789ab"
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
# deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago."
DELETE_WITHIN_S = 48 * 3600
# Telegram's default: everything except these, unless getUpdates/setWebhook says otherwise.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BAD_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description and optional ResponseParameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class StoredMessage:
    """One message in a chat, as Telegram currently shows it, with its earlier versions."""

    chat_id: int
    message_id: int
    data: JSON
    from_bot: bool
    raw_text: str | None = None  # text or caption as the bot sent it, before parse_mode
    parse_mode: str | None = None
    reply_keyboard: JSON | None = None  # reply keyboards are not echoed back in Message
    history: list[JSON] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str:
        """The entity-free text (or caption) a person reads."""
        return str(self.data.get("text") or self.data.get("caption") or "")


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass
class ChatEvent:
    kind: str  # "sent", "edited", "deleted", "answered"
    message: StoredMessage | None
    query: CallbackQueryRecord | None = None


@dataclass
class ChatState:
    chat: JSON
    members: dict[int, str] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    events: list[ChatEvent] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reply_keyboard: JSON | None = None
    blocked_bot: bool = False
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(62)))
    _next_message_id: int = 1
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    def take_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def record(self, event: ChatEvent) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, within: float) -> None:
        """Wait until the next event in this chat, or `within` seconds pass (silently)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), within)


# The Bot API methods that count against Telegram's flood limit for a chat: everything that
# puts, changes or removes something in it. (answerCallbackQuery and getFile do not.)
FLOOD_LIMITED = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "editmessagemedia",
        "deletemessage",
        "deletemessages",
        "sendphoto",
        "senddocument",
        "sendmediagroup",
        "sendchataction",
    }
)


@dataclass
class ApiCall:
    method: str
    params: JSON
    files: list[str]
    status: int = 0  # 0 until answered: a long poll can be cancelled when its client leaves
    description: str | None = None
    result: Any = None  # the answer's "result" (when record_calls is on)
    via: str | None = None  # the process's path prefix, when it used base_url_for(via)


@dataclass(frozen=True)
class ProcessCall:
    """A request of a process that used its own URL (`base_url_for`): when it came
    (time.monotonic()), from which process, what (a method, or "file" for a download), and
    whom it was for (the chat, or the callback query answered), when it says; for a download,
    the file's path."""

    at: float
    via: str
    method: str
    chat_id: int | None = None
    callback_query_id: str | None = None
    file_path: str | None = None


@dataclass(frozen=True)
class Handout:
    """An update given to a process in a getUpdates answer (a process may get one again:
    Telegram keeps an update until a getUpdates with a higher offset confirms it)."""

    at: float
    via: str
    update_id: int
    kind: str
    chat_id: int | None
    callback_query_id: str | None


@dataclass
class _Failure:
    status: int
    description: str
    parameters: JSON | None


class Params:
    """A request's parameters, typed the way the Bot API reads them."""

    def __init__(self, values: JSON, files: dict[str, tuple[str, str, bytes]]) -> None:
        self.values = values
        self.files = files  # part name -> (filename, content type, bytes)

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get_str(self, name: str, *, required: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise _bad(required)
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise _bad(required)
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str, *, what: str | None = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {what or name} JSON object") from None


class FakeTelegram:
    """The fake Bot API server. Use as `async with FakeTelegram() as fake:` inside the event loop.

    Bot side (HTTP): what the bot calls. Test side: `url`, `token`, `bot_user`, `calls`,
    `errors`, `chat(...)`, `fail_next(...)`, `set_member_status(...)`. People side: the methods
    FakeUser uses to add users and chats and to inject updates.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "modelderm_test_bot",
        bot_first_name: str = "Skin Check (test)",
        port: int = 0,
        record_calls: bool = True,
    ) -> None:
        if not _TOKEN_SHAPE.match(token):
            raise ValueError("token must look like a real one: '<bot id>:<secret>'")
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.files = FileStore()
        self.calls: list[ApiCall] = []
        self.errors: list[ApiCall] = []  # every error answer, for diagnostics
        self.record_calls = record_calls
        # Calls by method, counted even when calls are not recorded (for the load benchmark).
        self.method_counts: collections.Counter[str] = collections.Counter()
        self.response_delay = 0.0  # seconds added to every method except getUpdates
        self.file_delay = 0.0  # seconds added to every file download
        self.webhook: JSON | None = None
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.bot_settings: dict[str, Any] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, ChatState] = {}
        self.polls = 0  # getUpdates calls answered, so diagnostics can tell "the bot never polled"
        # Requests and hand-outs of processes with their own URL (base_url_for), even when
        # record_calls is off; `confirmed[update_id]` is (via, time) of the getUpdates whose
        # offset confirmed it: from then on Telegram counts it delivered.
        self.process_calls: list[ProcessCall] = []
        self.handouts: list[Handout] = []
        self.confirmed: dict[int, tuple[str, float]] = {}
        self._answered = asyncio.Event()  # set (and replaced) whenever a call is answered
        # Set (and replaced) whenever an update is queued or confirmed, or a long poll waits.
        self._updates_moved = asyncio.Event()
        self._port = port
        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(700_000_000)
        self._allowed_updates: frozenset[str] | None = None
        self._poll_waiter: asyncio.Future[str] | None = None
        self._failures: dict[str, deque[_Failure]] = {}
        self._photo_groups: dict[str, list[JSON]] = {}
        self._user_ids = itertools.count(10_001)
        self._group_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Webhook delivery: where updates are pushed while a webhook is set (see deliver_to).
        self.webhook_target: str | None = None
        self.webhook_retry_s = 0.5
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status or 0)
        self._delivery_wake = asyncio.Event()
        self._delivery: asyncio.Task[None] | None = None
        self._methods: dict[str, Callable[[Params], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "logOut",
                "close",
                "getUpdates",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "setMyCommands",
                "getMyCommands",
                "deleteMyCommands",
                "setMyDescription",
                "setMyShortDescription",
                "setMyName",
                "setChatMenuButton",
                "sendMessage",
                "editMessageText",
                "editMessageCaption",
                "editMessageReplyMarkup",
                "deleteMessage",
                "answerCallbackQuery",
                "sendChatAction",
                "getFile",
                "sendPhoto",
                "sendDocument",
                "sendMediaGroup",
                "getChat",
                "getChatMember",
                "leaveChat",
            )
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/via/{via}/bot{token}/{method}", self._handle_method)
        app.router.add_get("/via/{via}/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away must not outlive it.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._wake_poll("closing")
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)` / `Bot(base_url=...)`; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def base_url_for(self, via: str) -> str:
        """`base_url` for one of several processes: its calls are recorded as made by `via`."""
        return f"{self.url}/via/{_checked_via(via)}/bot"

    def base_file_url_for(self, via: str) -> str:
        return f"{self.url}/via/{_checked_via(via)}/file/bot"

    def calls_by(self, via: str, *, since: float = float("-inf")) -> list[ProcessCall]:
        """What process `via` requested from time.monotonic() `since` on."""
        return [c for c in self.process_calls if c.via == via and c.at >= since]

    # ------------------------------------------------------------------ test-side controls

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail (429 flood control by default)."""
        parameters: JSON | None = None
        if status == 429:
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or {
            500: "Internal Server Error",
            502: "Bad Gateway",
            403: "Forbidden: bot was blocked by the user",
        }.get(status, "Bad Request: injected failure")
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend(_Failure(status, description, parameters) for _ in range(times))

    def chat(self, chat_id: int) -> ChatState:
        return self.chats[chat_id]

    def age_messages(self, chat_id: int, seconds: float) -> None:
        """Make every message now in the chat `seconds` older, as if sent that long ago."""
        for stored in self.chats[chat_id].messages.values():
            stored.data["date"] = int(stored.data["date"] - seconds)

    def deliver_to(self, target: str | None) -> None:
        """Push updates to `target` while a webhook is set, as Telegram does.

        Telegram only calls https:// URLs; `target` (plain http on 127.0.0.1) stands for the
        TLS-terminating reverse proxy in front of the URL given to setWebhook. Updates go in
        order with the X-Telegram-Bot-Api-Secret-Token header; an answer other than 2xx (or no
        answer) keeps the update and retries it after `webhook_retry_s`, like Telegram.
        """
        self.webhook_target = target
        if target is not None and self._delivery is None:
            self._delivery = asyncio.get_running_loop().create_task(self._deliver())
        self._delivery_wake.set()

    async def _deliver(self) -> None:
        async with ClientSession() as http:
            while True:
                self._drop_unwanted()
                if self.webhook is None or self.webhook_target is None or not self._updates:
                    self._delivery_wake.clear()
                    await self._delivery_wake.wait()
                    continue
                update = self._updates[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                status = 0
                with contextlib.suppress(ClientError, OSError, TimeoutError):
                    async with http.post(
                        self.webhook_target, json=update, headers=headers, timeout=ClientTimeout(10)
                    ) as response:
                        status = response.status
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.popleft()
                        self._note_updates_moved()
                else:
                    await asyncio.sleep(self.webhook_retry_s)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for_answers(
        self,
        method: str,
        count: int = 1,
        *,
        failed: bool = False,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        """Wait until `count` calls of `method` were answered since the start (only the error
        answers when `failed`); returns them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pool = self.errors if failed else self.calls
            done = [c for c in pool if c.method.lower() == method.lower() and c.status]
            if len(done) >= count:
                return done
            remaining = deadline - loop.time()
            if remaining <= 0:
                kind = "error answers" if failed else "answers"
                raise AssertionError(f"waited {timeout} s for {count} {kind} to {method}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answered.wait(), remaining)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember reports: creator, administrator, member, restricted, left, kicked."""
        if status not in ("creator", "administrator", "member", "restricted", "left", "kicked"):
            raise ValueError(f"unknown chat member status {status!r}")
        self.chats[chat_id].members[user_id] = status

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    @property
    def all_handed_out(self) -> bool:
        """Whether the bot has confirmed every update people sent, and waits for the next: no
        update is queued here, and a long poll waits (or a webhook is set: updates leave the
        queue only once the bot answered 2xx)."""
        if self._updates:
            return False
        if self.webhook is not None:
            return True
        return self._poll_waiter is not None and not self._poll_waiter.done()

    async def handed_out(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until `all_handed_out`: everything sent so far is in the bot's hands."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.all_handed_out:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"waited {timeout} s for the bot to take its updates: "
                    f"{len(self._updates)} not confirmed, polls answered so far: {self.polls}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_moved.wait(), remaining)

    def _note_updates_moved(self) -> None:
        self._updates_moved.set()
        self._updates_moved = asyncio.Event()

    # ------------------------------------------------------------------ what people do

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> JSON:
        user: JSON = {"id": user_id or next(self._user_ids), "is_bot": False}
        user["first_name"] = first_name
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user["id"]] = user
        return user

    def private_chat(self, user: JSON) -> ChatState:
        if user["id"] not in self.chats:
            chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            state = ChatState(chat)
            state.members = {user["id"]: "member", self.bot_user["id"]: "member"}
            self.chats[user["id"]] = state
        return self.chats[user["id"]]

    def add_group(
        self, title: str, members: Iterable[JSON], *, supergroup: bool = False
    ) -> ChatState:
        number = next(self._group_ids)
        chat_id = -(1_001_000_000_000 + number) if supergroup else -(4_000_000_000 + number)
        state = ChatState({"id": chat_id, "type": "supergroup" if supergroup else "group"})
        state.chat["title"] = title
        state.members = {m["id"]: "member" for m in members}
        state.members[self.bot_user["id"]] = "member"
        self.chats[chat_id] = state
        return state

    def add_user_message(self, chat: ChatState, user: JSON, content: JSON) -> StoredMessage:
        data: JSON = {
            "message_id": chat.take_message_id(),
            "from": user,
            "chat": chat.chat,
            "date": int(time.time()),
            **content,
        }
        stored = StoredMessage(chat.id, data["message_id"], data, from_bot=False)
        chat.messages[stored.message_id] = stored
        return stored

    def edit_user_message(self, stored: StoredMessage, content: JSON) -> int:
        """The person edits one of their messages: its new text (or caption) replaces the old
        one, and Telegram sends the whole message again as an `edited_message` update."""
        replaced = ("text", "entities", "caption", "caption_entities")
        kept = {k: v for k, v in stored.data.items() if k not in replaced}
        stored.history.append(stored.data)
        stored.data = {**kept, **content, "edit_date": int(time.time())}
        return self.inject_update("edited_message", stored.data)

    def inject_update(self, kind: str, payload: JSON) -> int:
        """Queue an update for getUpdates; wakes a waiting long poll at once."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._wake_poll("update")
        self._delivery_wake.set()
        self._note_updates_moved()
        return update_id

    def add_callback_query(self, user: JSON, message: StoredMessage, data: str) -> str:
        query = CallbackQueryRecord(
            id=str(secrets.randbits(63)),
            user_id=user["id"],
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
        )
        self.callback_queries[query.id] = query
        chat = self.chats[message.chat_id]
        self.inject_update(
            "callback_query",
            {
                "id": query.id,
                "from": user,
                "message": message.data,
                "chat_instance": chat.chat_instance,
                "data": data,
            },
        )
        return query.id

    # ------------------------------------------------------------------ HTTP

    def _check_token(self, token: str) -> None:
        if not _TOKEN_SHAPE.match(token):
            raise ApiError(404, "Not Found")
        if token != self.token:
            raise ApiError(401, "Unauthorized")

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        via = request.match_info.get("via")
        call = ApiCall(method, {}, [], via=via)
        try:
            self._check_token(request.match_info["token"])
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            call.params = dict(params.values)
            call.files = sorted(params.files)
            self.method_counts[method] += 1
            if self.record_calls:
                self.calls.append(call)
            if via is not None:
                self._note_process_call(via, method, params)
            failures = self._failures.get(method.lower())
            if failures:
                failure = failures.popleft()
                raise ApiError(failure.status, failure.description, failure.parameters)
            if self.response_delay and method.lower() != "getupdates":
                await asyncio.sleep(self.response_delay)
            result = await handler(params)
            if via is not None and method.lower() == "getupdates":
                self._note_handouts(via, result)
            call.status = 200
            if self.record_calls:
                call.result = result
        except ApiError as error:
            call.status, call.description = error.status, error.description
            self.errors.append(call)
            body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return web.json_response(body, status=error.status)
        finally:
            self._answered.set()
            self._answered = asyncio.Event()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        try:
            self._check_token(request.match_info["token"])
            via = request.match_info.get("via")
            if via is not None:
                path = request.match_info["path"]
                self.process_calls.append(
                    ProcessCall(time.monotonic(), via, "file", file_path=path)
                )
        except ApiError as error:
            body = {"ok": False, "error_code": error.status, "description": error.description}
            return web.json_response(body, status=error.status)
        if self.file_delay:
            await asyncio.sleep(self.file_delay)
        stored = self.files.by_path(request.match_info["path"])
        if stored is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    @staticmethod
    async def _read_params(request: web.Request) -> Params:
        values: JSON = dict(request.query)
        files: dict[str, tuple[str, str, bytes]] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON body") from None
            if isinstance(body, dict):
                values.update(body)
        elif request.can_read_body:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, value.content_type, value.file.read())
                else:
                    values[name] = value if isinstance(value, str) else value.decode()
        return Params(values, files)

    # ------------------------------------------------------------------ processes

    def _note_process_call(self, via: str, method: str, params: Params) -> None:
        chat_id: int | None = None
        with contextlib.suppress(ApiError):
            chat_id = params.get_int("chat_id")
        query = params.get_str("callback_query_id")
        now = time.monotonic()
        self.process_calls.append(ProcessCall(now, via, method, chat_id, query))
        if method.lower() == "getupdates":
            # The offset confirms updates as the request comes, before a long poll waits.
            with contextlib.suppress(ApiError):
                self._note_confirmed(params.get_int("offset"), via, now)

    def _note_confirmed(self, offset: int | None, via: str, now: float) -> None:
        if offset is None or offset <= 0:
            return
        for handout in self.handouts:
            if handout.update_id < offset and handout.update_id not in self.confirmed:
                self.confirmed[handout.update_id] = (via, now)

    def _note_handouts(self, via: str, updates: list[JSON]) -> None:
        now = time.monotonic()
        for update in updates:
            kind = next(k for k in update if k != "update_id")
            payload = update[kind]
            query = payload.get("id") if kind == "callback_query" else None
            message = payload.get("message") if kind == "callback_query" else payload
            chat = (message or {}).get("chat") or {}
            self.handouts.append(
                Handout(now, via, update["update_id"], kind, chat.get("id"), query)
            )

    # ------------------------------------------------------------------ helpers

    def _wake_poll(self, reason: str) -> None:
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result(reason)

    def _chat_for_sending(self, params: Params) -> ChatState:
        chat = self._chat(params)
        if chat.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.members.get(self.bot_user["id"]) in ("left", "kicked"):
            kind = "supergroup" if chat.chat["type"] == "supergroup" else "group"
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def _chat(self, params: Params) -> ChatState:
        raw = params.values.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        chat_id: int | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            chat_id = next(
                (c.id for c in self.chats.values() if c.chat.get("username") == raw[1:]), None
            )
        else:
            with contextlib.suppress(TypeError, ValueError):
                chat_id = int(raw)
        if chat_id is None or chat_id not in self.chats:
            raise _bad("chat not found")
        return self.chats[chat_id]

    def _formatted(self, params: Params, name: str, limit: int) -> tuple[str, list[JSON]] | None:
        raw = params.get_str(name)
        if raw is None:
            return None
        try:
            plain, entities = parse_formatted(raw, params.get_str("parse_mode"))
        except EntityParseError as error:
            raise _bad(f"can't parse entities: {error}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None
        explicit = params.get_json(f"{name}_entities" if name == "caption" else "entities")
        if explicit and not params.get_str("parse_mode"):
            entities = list(explicit)
        if len(plain) > limit:
            raise _bad("message is too long" if name == "text" else "message caption is too long")
        return plain, detect_entities(plain, entities)

    def _text_content(self, plain: str, entities: list[JSON], field_name: str) -> JSON:
        content: JSON = {field_name: plain}
        if entities:
            content["entities" if field_name == "text" else "caption_entities"] = entities
        return content

    @staticmethod
    def _inline_keyboard(markup: JSON) -> JSON:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardMarkup must be an array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad("can't parse inline keyboard button: Text must be non-empty")
                if not any(key in button for key in _BUTTON_ACTIONS):
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode()) <= 64):
                    raise _bad("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
                    raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        return {"inline_keyboard": rows}

    def _apply_markup(self, params: Params, chat: ChatState, data: JSON) -> JSON | None:
        """Put an inline keyboard on the message; a reply keyboard changes the chat instead."""
        markup = params.get_json("reply_markup", what="reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            data["reply_markup"] = self._inline_keyboard(markup)
            return None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not rows:
                raise _bad("keyboard must be non-empty")
            chat.reply_keyboard = markup
            return markup
        if markup.get("remove_keyboard"):
            chat.reply_keyboard = None
            return markup
        if markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    def _reply_target(self, params: Params, chat: ChatState) -> JSON | None:
        reply = params.get_json("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = params.get_int("reply_to_message_id")
        if message_id is None:
            return None
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            allow = reply.get("allow_sending_without_reply") or params.get_bool(
                "allow_sending_without_reply"
            )
            if allow:
                return None
            raise _bad("message to be replied not found")
        quoted = dict(target.data)
        quoted.pop("reply_to_message", None)  # Telegram nests replies one level only
        return quoted

    def _store_bot_message(
        self,
        chat: ChatState,
        params: Params,
        content: JSON,
        *,
        raw_field: str,
        reply_to: JSON | None = None,
        protected: bool | None = None,
    ) -> StoredMessage:
        """`protected`: sent with protect_content (an album's items: the album's own)."""
        data: JSON = {
            "message_id": chat.take_message_id(),
            "from": self.bot_user,
            "chat": chat.chat,
            "date": int(time.time()),
        }
        if reply_to is not None:
            data["reply_to_message"] = reply_to
        # As Telegram marks a message that cannot be forwarded or saved; edits keep it.
        if params.get_bool("protect_content") if protected is None else protected:
            data["has_protected_content"] = True
        data.update(content)
        keyboard = self._apply_markup(params, chat, data)
        stored = StoredMessage(
            chat.id,
            data["message_id"],
            data,
            from_bot=True,
            raw_text=params.get_str(raw_field),
            parse_mode=params.get_str("parse_mode"),
            reply_keyboard=keyboard,
        )
        chat.messages[stored.message_id] = stored
        chat.record(ChatEvent("sent", stored))
        return stored

    def _message_to_edit(self, params: Params) -> StoredMessage:
        if "inline_message_id" in params:
            raise _bad("message to edit not found")
        chat = self._chat(params)
        if chat.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        message_id = params.get_int("message_id", required="message identifier is not specified")
        stored = chat.messages.get(message_id or 0)
        if stored is None or stored.deleted:
            raise _bad("message to edit not found")
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return stored

    def _commit_edit(self, stored: StoredMessage, new_data: JSON, params: Params) -> JSON:
        # Telegram drops the inline keyboard when an edit does not repeat it.
        markup = params.get_json("reply_markup", what="reply keyboard markup")
        if markup is not None:
            if not isinstance(markup, dict) or "inline_keyboard" not in markup:
                raise _bad("inline keyboard expected")
            new_data["reply_markup"] = self._inline_keyboard(markup)
        else:
            new_data.pop("reply_markup", None)
        compared = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(new_data.get(k) == stored.data.get(k) for k in compared):
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        stored.history.append(stored.data)
        new_data["edit_date"] = int(time.time())
        stored.data = new_data
        self.chats[stored.chat_id].record(ChatEvent("edited", stored))
        return stored.data

    def _input_file(
        self, params: Params, name: str, value: Any
    ) -> tuple[bytes, str | None, str | None] | StoredFile:
        """An uploaded part (bytes, filename, content type) or a known file for a file_id."""
        if value is None or value == "":
            if name in params.files:
                filename, content_type, blob = params.files[name]
                return blob, filename, content_type
            raise _bad(f"there is no {name} in the request")
        value = str(value)
        if value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part not in params.files:
                raise _bad(f"file of type {name} not found in the request")
            filename, content_type, blob = params.files[part]
            return blob, filename, content_type
        stored = self.files.get(value)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        return stored

    def _photo(self, source: tuple[bytes, str | None, str | None] | StoredFile) -> list[JSON]:
        if isinstance(source, StoredFile):
            sizes = self._photo_groups.get(source.file_id)
            if sizes is None:
                raise _bad("type of file mismatch")
            return sizes
        try:
            sizes = self.files.photo_sizes(source[0])
        except ValueError:
            raise _bad("IMAGE_PROCESS_FAILED") from None
        self.remember_photo(sizes)
        return sizes

    def remember_photo(self, sizes: list[JSON]) -> None:
        """Let any size's file_id be sent again as the same photo."""
        for size in sizes:
            self._photo_groups[size["file_id"]] = sizes

    def _document(
        self, source: tuple[bytes, str | None, str | None] | StoredFile, filename_hint: str
    ) -> JSON:
        if isinstance(source, StoredFile):
            return {**self.files.describe(source), "file_name": source.file_path.rsplit("/")[-1]}
        blob, filename, content_type = source
        return self.files.document(
            blob, filename or filename_hint, content_type or None, thumbnail=True
        )

    def _caption(self, params: Params) -> JSON:
        formatted = self._formatted(params, "caption", 1024)
        if formatted is None:
            return {}
        return self._text_content(*formatted, "caption")

    # ------------------------------------------------------------------ Bot API methods

    async def _m_getMe(self, params: Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_logOut(self, params: Params) -> bool:
        return True

    async def _m_close(self, params: Params) -> bool:
        return True

    async def _m_getUpdates(self, params: Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        # A new getUpdates ends the one still waiting, as Telegram does for a second instance.
        self._wake_poll("conflict")
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_float("timeout") or 0.0, 0.0)
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset is not None:
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            self._note_updates_moved()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self._drop_unwanted()
            remaining = deadline - asyncio.get_running_loop().time()
            if self._updates or remaining <= 0:
                break
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            self._note_updates_moved()
            try:
                reason = await asyncio.wait_for(asyncio.shield(waiter), remaining)
            except TimeoutError:
                break
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if reason == "closing":
                break
        self.polls += 1
        return [copy.deepcopy(u) for u in itertools.islice(self._updates, limit)]

    def _drop_unwanted(self) -> None:
        # Telegram does not even keep updates of kinds the bot did not ask for.
        allowed = self._allowed_updates
        kept = deque(
            u
            for u in self._updates
            if (kind := next(k for k in u if k != "update_id"))
            and (kind in allowed if allowed is not None else kind not in _NOT_DELIVERED_BY_DEFAULT)
        )
        if len(kept) != len(self._updates):
            self._updates = kept

    async def _m_setWebhook(self, params: Params) -> bool:
        url = params.get_str("url") or ""
        if not url:
            return await self._m_deleteWebhook(params)
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "max_connections": params.get_int("max_connections") or 40,
            "secret_token": params.get_str("secret_token"),
        }
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            self.webhook["allowed_updates"] = allowed
            self._allowed_updates = frozenset(allowed) if allowed else None
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
            self._note_updates_moved()
        self._delivery_wake.set()
        return True

    async def _m_deleteWebhook(self, params: Params) -> bool:
        self.webhook = None
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
            self._note_updates_moved()
        return True

    async def _m_getWebhookInfo(self, params: Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = self.webhook["max_connections"]
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get_json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get_str("language_code") or ""

    async def _m_setMyCommands(self, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.match(r"^[a-z0-9_]{1,32}$", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _m_getMyCommands(self, params: Params) -> list[JSON]:
        return list(self.commands.get(self._commands_key(params), []))

    async def _m_deleteMyCommands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _m_setMyDescription(self, params: Params) -> bool:
        self.bot_settings["description"] = params.get_str("description") or ""
        return True

    async def _m_setMyShortDescription(self, params: Params) -> bool:
        self.bot_settings["short_description"] = params.get_str("short_description") or ""
        return True

    async def _m_setMyName(self, params: Params) -> bool:
        self.bot_settings["name"] = params.get_str("name") or ""
        return True

    async def _m_setChatMenuButton(self, params: Params) -> bool:
        self.bot_settings["menu_button"] = params.get_json("menu_button")
        return True

    async def _m_sendMessage(self, params: Params) -> JSON:
        chat = self._chat_for_sending(params)
        formatted = self._formatted(params, "text", 4096)
        if formatted is None or not formatted[0].strip():
            raise _bad("message text is empty")
        reply_to = self._reply_target(params, chat)
        content = self._text_content(*formatted, "text")
        return self._store_bot_message(
            chat, params, content, raw_field="text", reply_to=reply_to
        ).data

    async def _m_editMessageText(self, params: Params) -> JSON:
        stored = self._message_to_edit(params)
        if "text" not in stored.data:
            raise _bad("there is no text in the message to edit")
        formatted = self._formatted(params, "text", 4096)
        if formatted is None or not formatted[0].strip():
            raise _bad("message text is empty")
        new_data = {k: v for k, v in stored.data.items() if k not in ("text", "entities")}
        new_data.update(self._text_content(*formatted, "text"))
        result = self._commit_edit(stored, new_data, params)
        stored.raw_text, stored.parse_mode = params.get_str("text"), params.get_str("parse_mode")
        return result

    async def _m_editMessageCaption(self, params: Params) -> JSON:
        stored = self._message_to_edit(params)
        if "text" in stored.data:
            raise _bad("there is no caption in the message to edit")
        new_data = {
            k: v for k, v in stored.data.items() if k not in ("caption", "caption_entities")
        }
        new_data.update(self._caption(params))
        result = self._commit_edit(stored, new_data, params)
        stored.raw_text, stored.parse_mode = params.get_str("caption"), params.get_str("parse_mode")
        return result

    async def _m_editMessageReplyMarkup(self, params: Params) -> JSON:
        stored = self._message_to_edit(params)
        return self._commit_edit(stored, dict(stored.data), params)

    async def _m_deleteMessage(self, params: Params) -> bool:
        chat = self._chat_for_sending(params)  # not in the group (any more): Forbidden
        message_id = params.get_int("message_id", required="message identifier is not specified")
        stored = chat.messages.get(message_id or 0)
        if stored is None or stored.deleted:
            raise _bad("message to delete not found")
        # The Bot API's rules: only messages younger than 48 hours; in groups only the bot's own
        # unless it is an administrator. Telegram gives the same answer for both refusals.
        too_old = time.time() - int(stored.data["date"]) >= DELETE_WITHIN_S
        is_admin = chat.members.get(self.bot_user["id"]) in ("administrator", "creator")
        if too_old or (not stored.from_bot and chat.chat["type"] != "private" and not is_admin):
            raise _bad("message can't be deleted")
        stored.deleted = True
        chat.record(ChatEvent("deleted", stored))
        return True

    async def _m_answerCallbackQuery(self, params: Params) -> bool:
        query_id = params.get_str("callback_query_id", required="query ID is empty") or ""
        query = self.callback_queries.get(query_id)
        if query is None or query.answered:
            raise _bad(_BAD_QUERY.removeprefix("Bad Request: "))
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        query.text = text
        query.show_alert = params.get_bool("show_alert")
        query.url = params.get_str("url")
        query.cache_time = params.get_int("cache_time")
        self.chats[query.chat_id].record(ChatEvent("answered", None, query))
        return True

    async def _m_sendChatAction(self, params: Params) -> bool:
        chat = self._chat_for_sending(params)
        action = params.get_str("action") or ""
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        chat.actions.append(action)
        return True

    async def _m_getFile(self, params: Params) -> JSON:
        file_id = params.get_str("file_id", required="file_id not specified") or ""
        stored = self.files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {**self.files.describe(stored), "file_path": stored.file_path}

    async def _m_sendPhoto(self, params: Params) -> JSON:
        chat = self._chat_for_sending(params)
        sizes = self._photo(self._input_file(params, "photo", params.values.get("photo")))
        content: JSON = {"photo": sizes, **self._caption(params)}
        reply_to = self._reply_target(params, chat)
        return self._store_bot_message(
            chat, params, content, raw_field="caption", reply_to=reply_to
        ).data

    async def _m_sendDocument(self, params: Params) -> JSON:
        chat = self._chat_for_sending(params)
        source = self._input_file(params, "document", params.values.get("document"))
        content: JSON = {"document": self._document(source, "document"), **self._caption(params)}
        reply_to = self._reply_target(params, chat)
        return self._store_bot_message(
            chat, params, content, raw_field="caption", reply_to=reply_to
        ).data

    async def _m_sendMediaGroup(self, params: Params) -> list[JSON]:
        chat = self._chat_for_sending(params)
        media = params.get_json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of messages in the media group: must be 2-10")
        kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
        if not kinds <= {"photo", "video", "document", "audio"}:
            raise _bad("invalid media type in the media group")
        if len(kinds) > 1 and kinds & {"document", "audio"}:
            raise _bad("document can't be mixed with other media types")
        reply_to = self._reply_target(params, chat)
        group_id = str(secrets.randbits(62))
        contents: list[tuple[JSON, Params]] = []
        for index, item in enumerate(media):
            source = self._input_file(params, item["type"], item.get("media"))
            item_params = Params(
                {
                    k: v
                    for k, v in item.items()
                    if k in ("caption", "parse_mode", "caption_entities")
                },
                {},
            )
            content: JSON = {"media_group_id": group_id, **self._caption(item_params)}
            if item["type"] == "photo":
                content["photo"] = self._photo(source)
            elif item["type"] == "document":
                content["document"] = self._document(source, f"document_{index}")
            else:
                if isinstance(source, StoredFile):
                    stored = source
                else:
                    stored = self.files.add(source[0], f"{item['type']}s", "")
                described = self.files.describe(stored)
                content[item["type"]] = {**described, "duration": int(item.get("duration") or 0)}
                if item["type"] == "video":
                    content["video"] |= {
                        "width": int(item.get("width") or 0),
                        "height": int(item.get("height") or 0),
                    }
            contents.append((content, item_params))
        # Only the first message of an album carries the reply; markups are not allowed at all.
        sent = []
        for index, (content, item_params) in enumerate(contents):
            message = self._store_bot_message(
                chat,
                item_params,
                content,
                raw_field="caption",
                reply_to=reply_to if index == 0 else None,
                protected=params.get_bool("protect_content"),
            )
            sent.append(message.data)
        return sent

    async def _m_getChat(self, params: Params) -> JSON:
        chat = self._chat(params)
        info: JSON = {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        return info

    async def _m_getChatMember(self, params: Params) -> JSON:
        chat = self._chat(params)
        user_id = params.get_int("user_id", required="user not found") or 0
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        if user is None:
            raise _bad("user not found")
        return _chat_member(user, chat.members.get(user_id, "left"))

    async def _m_leaveChat(self, params: Params) -> bool:
        chat = self._chat(params)
        if chat.chat["type"] == "private":
            raise _bad("chat member status can't be changed in private chats")
        chat.members[self.bot_user["id"]] = "left"
        return True


def _checked_via(via: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", via):
        raise ValueError(f"a process name for a URL path: letters, digits, - and _, not {via!r}")
    return via


def _chat_member(user: JSON, status: str) -> JSON:
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member |= {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": False,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": False,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
    elif status == "restricted":
        member |= {"is_member": True, "until_date": 0}
        member |= {
            f"can_{p}": False
            for p in (
                "change_info",
                "invite_users",
                "pin_messages",
                "send_messages",
                "send_polls",
                "send_other_messages",
                "add_web_page_previews",
                "manage_topics",
                "send_audios",
                "send_documents",
                "send_photos",
                "send_videos",
                "send_video_notes",
                "send_voice_notes",
                "edit_tag",
                "react_to_messages",
            )
        }
    elif status == "kicked":
        member["until_date"] = 0
    return member


async def _serve(port: int, token: str) -> None:
    async with FakeTelegram(token, port=port) as fake:
        print(f"fake Telegram Bot API on {fake.url} (token {token})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.token))


if __name__ == "__main__":
    main()
