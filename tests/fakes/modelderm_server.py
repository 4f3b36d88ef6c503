"""A fake Model Dermatology server speaking the real protocol over real HTTP on 127.0.0.1.

It reads requests the way /work/shared/modelderm-api.md describes them (`GET /api?KEY` for the
status; `POST /api` as multipart/form-data with only `file` parts, `args1` and `args2`; anything
else is a 400), records every request, and answers in the real tag format unless told to
misbehave: per server, a default `Behaviour` plus a queue of next ones.

Three ways to run it:
- in the test's own event loop: `async with FakeModelDerm() as server: ... server.url`;
- in a background thread, for tests that run the CLI in a subprocess:
  `with FakeModelDerm().in_thread() as server: ...`;
- as a program for benchmarks: `python -m tests.fakes.modelderm_server --port N [--latency S]`.

Several bot processes can each be given their own URL, `url_for(via)` (the same API under
`/via/<via>/api`), so that every recorded request says which process sent it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

# The body a reverse proxy in front of the real server answered with (HTTP 502).
PROXY_ERROR_PAGE = """<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>502 Proxy Error</title>
</head><body>
<h1>Proxy Error</h1>
<p>The proxy server received an invalid

response from an upstream server.<br />

The proxy server could not handle the request<p>Reason: <strong>Error reading from remote server</strong></p></p>
</body></html>
"""  # noqa: E501

DEFAULT_CONDITIONS: tuple[tuple[str, float], ...] = (
    ("Insect bite", 0.2728),
    ("Melanocytic nevus", 0.2456),
    ("Xerotic eczema", 0.0761),
    ("Hemangioma", 0.0704),
    ("Folliculitis", 0.0561),
    ("Cherry Hemangioma", 0.0379),
    ("Skin tag", 0.0357),
    ("Dysplastic nevus", 0.0356),
    ("Inflammed cyst", 0.0240),
    ("Nonspecific (normal)", 0.0157),
)
MAX_FILES = 5
_ARGS2_TAG = re.compile(r"<([^<>/]*)>([^<>]*)</\1>")


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers one request. Build one with the class methods."""

    kind: str = "normal"
    delay_s: float = 0.0
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def normal(cls, delay_s: float = 0.0) -> Behaviour:
        return cls("normal", delay_s)

    @classmethod
    def slow(cls, delay_s: float) -> Behaviour:
        return cls("normal", delay_s)

    @classmethod
    def proxy_error(cls) -> Behaviour:
        return cls("raw", status=502, body=PROXY_ERROR_PAGE.encode(), content_type="text/html")

    @classmethod
    def too_many_requests(cls, retry_after: str | None = None) -> Behaviour:
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return cls("raw", status=429, body=b"Too Many Requests", headers=headers)

    @classmethod
    def drop(cls) -> Behaviour:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def garbage(cls) -> Behaviour:
        return cls("raw", body=bytes(range(256)) * 2, content_type="application/octet-stream")

    @classmethod
    def empty(cls) -> Behaviour:
        return cls("raw", body=b"")

    @classmethod
    def truncated(cls) -> Behaviour:
        """A normal answer cut off in the middle of the disease list."""
        return cls("truncated")

    @classmethod
    def error(cls, code: int = 1) -> Behaviour:
        return cls("raw", body=f"<error>{code}</error>".encode())

    @classmethod
    def json(cls) -> Behaviour:
        return cls("json")

    @classmethod
    def raw(
        cls,
        status: int,
        body: bytes | str,
        content_type: str = "text/plain",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Behaviour:
        data = body.encode() if isinstance(body, str) else body
        return cls(
            "raw", status=status, body=data, content_type=content_type, headers=tuple(headers)
        )


@dataclass
class RecordedFile:
    filename: str  # as sent (URL-quoted by the client)
    content_type: str
    data: bytes

    @property
    def unquoted_filename(self) -> str:
        return unquote(self.filename)


@dataclass
class RecordedRequest:
    """One diagnose request as the server understood it."""

    files: list[RecordedFile]
    args1: str | None
    args2: str | None
    # args2 read the way a server reads tag text: every `<tag>value</tag>` in order.
    metadata_tags: list[tuple[str, str]]
    answered_with: str
    received_at: float = field(default_factory=time.time)
    via: str | None = None  # the process, when it used url_for(via)
    answered_at: float | None = None  # time.time() when the answer was given (None: not yet)

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.metadata_tags)


class FakeModelDerm:
    """One fake server. Tell it how to answer with `behaviour`, `queue` and the status fields."""

    def __init__(
        self,
        conditions: Sequence[tuple[str, float]] = DEFAULT_CONDITIONS,
        malignancy_output: int | None = 4,
        *,
        port: int = 0,
        behaviour: Behaviour | None = None,
        current_users: int = 3,
        status_message: str = "",
    ) -> None:
        self.conditions = list(conditions)
        self.malignancy_output = malignancy_output
        self.behaviour = behaviour or Behaviour.normal()
        self.current_users = current_users
        self.status_message = status_message
        # None: up; a Behaviour: how the status request is answered instead.
        self.status_behaviour: Behaviour | None = None
        self.requests: list[RecordedRequest] = []
        self.status_requests: list[str] = []
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        # While set, diagnose requests are recorded and then wait until it is cleared (`hold`).
        self._held: asyncio.Event | None = None
        # Set (and replaced) whenever a diagnose request is recorded; see `received`.
        self._recorded = asyncio.Event()
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------------- configuration

    def queue(self, *behaviours: Behaviour) -> None:
        """Answer the next diagnose requests this way, in order, then go back to `behaviour`."""
        with self._lock:
            self._queue.extend(behaviours)

    def set_down(self, behaviour: Behaviour | None = None) -> None:
        """Make the status request fail (a 502 page unless told otherwise)."""
        self.status_behaviour = behaviour or Behaviour.proxy_error()

    def hold(self) -> None:
        """Keep every diagnose request waiting (after it is recorded) until `release()`."""
        if self._held is None:
            self._held = asyncio.Event()

    def release(self) -> None:
        """Let the held requests, and the next ones, be answered."""
        held, self._held = self._held, None
        if held is not None:
            held.set()

    async def received(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:  # noqa: ASYNC109
        """Wait until `count` diagnose requests have come (since the start); returns them all.
        Only for a server in the waiting test's own event loop (not `in_thread`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.requests) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"waited {timeout} s for {count} diagnose request(s); {len(self.requests)} came"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._recorded.wait(), remaining)
        return list(self.requests)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def url_for(self, via: str) -> str:
        """`url` for one of several processes: its requests are recorded as sent by `via`."""
        if not re.fullmatch(r"[A-Za-z0-9_-]+", via):
            raise ValueError(
                f"a process name for a URL path: letters, digits, - and _, not {via!r}"
            )
        return f"http://127.0.0.1:{self.port}/via/{via}/api"

    # ------------------------------------------------------------------------ life cycle

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/api", self._handle_status)
        app.router.add_post("/api", self._handle_diagnose)
        app.router.add_get("/via/{via}/api", self._handle_status)
        app.router.add_post("/via/{via}/api", self._handle_diagnose)
        return app

    async def start(self) -> None:
        # In-flight slow answers are abandoned at shutdown rather than waited for.
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeModelDerm:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[FakeModelDerm]:
        """Serve from a background thread with its own event loop (for subprocess tests)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-modelderm", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=10)
            yield self
        finally:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    # -------------------------------------------------------------------------- handlers

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.behaviour

    async def _handle_status(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.status_requests.append(request.query_string)
        if self.status_behaviour is not None:
            return await self._misbehave(request, self.status_behaviour)
        return web.Response(text=f"{self.current_users},{self.status_message}")

    async def _handle_diagnose(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "multipart/form-data":
            return web.Response(status=400, text="expected multipart/form-data")
        files: list[RecordedFile] = []
        fields: dict[str, str] = {}
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                return web.Response(status=400, text="nested multipart")
            if part.name == "file" and part.filename:
                data = await part.read()
                content_type = part.headers.get("Content-Type", "")
                files.append(RecordedFile(part.filename, content_type, bytes(data)))
            elif part.name in ("args1", "args2") and not part.filename:
                if part.name in fields:
                    return web.Response(status=400, text=f"{part.name} given twice")
                fields[part.name] = await part.text()
            else:
                return web.Response(status=400, text=f"unexpected form part {part.name!r}")
        if not files:
            return web.Response(status=400, text="no file")
        args2 = fields.get("args2")
        tags = [(m.group(1), m.group(2)) for m in _ARGS2_TAG.finditer(args2 or "")]
        behaviour = self._next_behaviour()
        recorded = RecordedRequest(
            files,
            fields.get("args1"),
            args2,
            tags,
            behaviour.kind,
            via=request.match_info.get("via"),
        )
        with self._lock:
            self.requests.append(recorded)
        self._recorded.set()
        self._recorded = asyncio.Event()
        try:
            return await self._diagnose_answer(request, behaviour, tags, len(files))
        finally:
            recorded.answered_at = time.time()

    async def _diagnose_answer(
        self, request: web.Request, behaviour: Behaviour, tags: list[tuple[str, str]], count: int
    ) -> web.StreamResponse:
        if self._held is not None:
            await self._held.wait()
        if behaviour.kind in ("normal", "json", "truncated"):
            if behaviour.delay_s:
                await asyncio.sleep(behaviour.delay_s)
            answer = self.answer(dict(tags), count, as_json=behaviour.kind == "json")
            if behaviour.kind == "truncated":
                answer = answer[: answer.index("<disease>") + 40]
            content_type = "application/json" if behaviour.kind == "json" else "text/html"
            return web.Response(body=answer.encode(), content_type=content_type)
        return await self._misbehave(request, behaviour)

    async def _misbehave(self, request: web.Request, behaviour: Behaviour) -> web.StreamResponse:
        if behaviour.delay_s:
            await asyncio.sleep(behaviour.delay_s)
        if behaviour.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.close()
            # Ends the handler without a response; aiohttp then writes nothing.
            raise asyncio.CancelledError
        response = web.Response(
            status=behaviour.status, body=behaviour.body, content_type=behaviour.content_type
        )
        for name, value in behaviour.headers:
            response.headers[name] = value
        return response

    # -------------------------------------------------------------------------- answers

    def answer(self, metadata: dict[str, str], photo_count: int, *, as_json: bool = False) -> str:
        """The answer the real server gives: its reading of the metadata, then the results."""
        birth = metadata.get("birth", "")
        age = str(dt.date.today().year - int(birth)) if birth.isdigit() else ""
        sex = {"m": "1", "f": "2"}.get(metadata.get("sex", ""), "")
        echoed = {
            "race": metadata.get("race", ""),
            "sex": sex,
            "age": age,
            "loc": metadata.get("location", ""),
            "pruritus": metadata.get("pruritus", ""),
            "pain": metadata.get("pain", ""),
            "onset": metadata.get("onset", ""),
        }
        meta_used = "1" if any(echoed.values()) else "0"
        photos = str(min(photo_count, MAX_FILES))
        disease = ",".join(f"{name},{prob:.4f}" for name, prob in self.conditions)
        if as_json:
            data: dict[str, Any] = {"error": 0, **echoed, "meta_used": int(meta_used)}
            data["no_photo"] = int(photos)
            data["disease"] = [[name, prob] for name, prob in self.conditions]
            if self.malignancy_output is not None:
                data["malignancy_output"] = self.malignancy_output
            return json.dumps(data)
        parts = ["<error>0</error>"]
        parts += [f"<{tag}>{value}</{tag}>" for tag, value in echoed.items()]
        parts += [f"<meta_used>{meta_used}</meta_used>", f"<no_photo>{photos}</no_photo>"]
        parts.append(f"<disease>{disease}</disease>")
        if self.malignancy_output is not None:
            parts.append(f"<malignancy_output>{self.malignancy_output}</malignancy_output>")
        return " ".join(parts)


@contextlib.asynccontextmanager
async def fake_servers(count: int, **kwargs: Any) -> AsyncIterator[list[FakeModelDerm]]:
    """Several fake servers, started together in the running loop."""
    servers = [FakeModelDerm(**kwargs) for _ in range(count)]
    try:
        for server in servers:
            await server.start()
        yield servers
    finally:
        for server in servers:
            await server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Model Dermatology server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = FakeModelDerm(port=args.port, behaviour=Behaviour.normal(args.latency))
        await server.start()
        print(json.dumps({"url": server.url}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
