"""The Model Dermatology API over HTTP: server status, and diagnose with failover and retries.

The client borrows one `httpx.AsyncClient` (the application creates it at start-up and closes
it at shutdown); it never closes it itself, so the bot, the CLI and tests share one connection
pool each.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random as random_module
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.modelderm.errors import (
    MAX_PHOTOS,
    AnswerError,
    AttemptRecord,
    DiagnosisFailed,
    PhotoCountError,
    RequestRejected,
    ServerError,
    host_of,
)
from bot.modelderm.protocol import encode_metadata, excerpt, parse_answer

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
# Awaited right before every upload; whatever it raises stops `diagnose` at once.
BeforeUpload = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PhotoUpload:
    """One image as it goes on the wire."""

    data: bytes
    mime_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class ServerStatus:
    url: str
    up: bool
    current_users: int | None
    message: str
    latency_s: float | None
    # Why the server counts as down; None when it is up.
    reason: str | None = None


class _KeyRedactingFilter(logging.Filter):
    """httpx logs every request URL at INFO, and the status request carries the API key in its
    query (`GET {url}?{key}`); this removes the key from those records wherever they go."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.key in message:
            record.msg = message.replace(self.key, "<redacted>")
            record.args = ()
        return True


def _install_key_filter(key: str) -> None:
    if not key:
        return
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _KeyRedactingFilter) and f.key == key for f in logger.filters):
            logger.addFilter(_KeyRedactingFilter(key))


class ModelDermClient:
    def __init__(
        self,
        urls: Sequence[str],
        api_key: str,
        http: httpx.AsyncClient,
        *,
        request_timeout_s: float = 60.0,
        deadline_s: float = 180.0,
        max_attempts: int = 4,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 20.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        if not urls:
            raise ValueError("give at least one Model Dermatology API URL")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.urls = tuple(url.rstrip("/") for url in urls)
        self._api_key = api_key
        self._http = http
        self.request_timeout_s = request_timeout_s
        self.deadline_s = deadline_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._random = random
        _install_key_filter(api_key)

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> ModelDermClient:
        return cls(
            settings.modelderm_api_urls,
            settings.modelderm_api_key.get_secret_value(),
            http,
            request_timeout_s=settings.modelderm_request_timeout_s,
            deadline_s=settings.modelderm_deadline_s,
            max_attempts=settings.modelderm_max_attempts,
            backoff_base_s=settings.modelderm_backoff_base_s,
            backoff_max_s=settings.modelderm_backoff_max_s,
        )

    def __repr__(self) -> str:
        return f"ModelDermClient(urls={list(self.urls)!r})"

    # ------------------------------------------------------------------------------ status

    async def status(self) -> list[ServerStatus]:
        """Every configured server's status, asked concurrently, in the configured order."""
        return list(await asyncio.gather(*(self._status_of(url) for url in self.urls)))

    async def _status_of(self, url: str) -> ServerStatus:
        started = time.monotonic()

        def down(reason: str) -> ServerStatus:
            return ServerStatus(url, False, None, "", None, self._redact(reason))

        try:
            response = await self._http.get(
                f"{url}?{quote(self._api_key, safe='@')}", timeout=self.request_timeout_s
            )
        except httpx.HTTPError as exc:
            return down(_describe_transport_error(exc, self.request_timeout_s))
        latency = time.monotonic() - started
        if response.status_code != 200:
            return down(f"HTTP {response.status_code}{_detail(response.content)}")
        text = response.content.decode("utf-8", errors="replace").strip()
        users_text, _, message = text.partition(",")
        users_text = users_text.strip()
        if not users_text.isascii() or not users_text.isdigit():
            return down(f"unreadable status answer {excerpt(text, 60)!r}")
        return ServerStatus(url, True, int(users_text), excerpt(message, 200), latency)

    # ---------------------------------------------------------------------------- diagnose

    async def diagnose(
        self,
        photos: Sequence[PhotoUpload],
        questionnaire: Questionnaire,
        case_id: str | None = None,
        *,
        before_upload: BeforeUpload | None = None,
    ) -> Diagnosis:
        """Send one case and return the server's diagnosis.

        Raises PhotoCountError (before any network I/O) for 0 or more than five photos, and
        DiagnosisFailed when no server gave a readable answer within the attempts and deadline.
        `before_upload` is awaited right before every HTTP request, the first included (the
        bot checks consent there); an exception from it ends `diagnose` unchanged.
        """
        if not 1 <= len(photos) <= MAX_PHOTOS:
            raise PhotoCountError(len(photos))
        metadata = encode_metadata(questionnaire, case_id)
        files = [
            ("file", (quote(photo.filename, safe=""), photo.data, photo.mime_type))
            for photo in photos
        ]
        form = {"args1": self._api_key, "args2": metadata}

        started = time.monotonic()
        deadline = started + self.deadline_s
        failures: list[AttemptRecord] = []
        rejected: set[str] = set()
        # Earliest moment a server asked (Retry-After) to be called again.
        not_before: dict[str, float] = {}
        stopped_because = ""
        for attempt in range(self.max_attempts):
            server = self._next_server(attempt, rejected)
            if server is None:
                raise DiagnosisFailed(failures, retryable=False)
            remaining = deadline - time.monotonic()
            # A server that refused the request is skipped, not waited for: the next one is
            # a different server, so there is nothing to back off from.
            if attempt > 0 and not (failures and failures[-1].server in rejected):
                delay = max(
                    self._backoff(attempt - 1), not_before.get(server, 0.0) - time.monotonic()
                )
                if delay >= remaining:
                    stopped_because = f"deadline of {self.deadline_s:g}s reached"
                    break
                if delay > 0:
                    await self._sleep(delay)
                remaining = deadline - time.monotonic()
            if remaining <= 0:
                stopped_because = f"deadline of {self.deadline_s:g}s reached"
                break
            if before_upload is not None:
                await before_upload()
            timeout = min(self.request_timeout_s, max(0.0, deadline - time.monotonic()))
            attempt_started = time.monotonic()
            try:
                # httpx's timeout bounds each read, not the whole answer; a server trickling
                # bytes must not carry a request past the deadline.
                async with asyncio.timeout(timeout):
                    diagnosis = await self._post(server, files, form, timeout)
            except (httpx.HTTPError, AnswerError, ServerError, TimeoutError) as exc:
                elapsed = time.monotonic() - attempt_started
                if isinstance(exc, TimeoutError):
                    outcome = f"no answer within {timeout:.1f}s"
                elif isinstance(exc, httpx.HTTPError):
                    outcome = _describe_transport_error(exc, timeout)
                else:
                    outcome = _describe(exc)
                # A server may echo what it was sent; the key stays out of logs and errors.
                outcome = self._redact(outcome)
                failures.append(
                    AttemptRecord(
                        server, outcome, round(elapsed, 3), unreadable=isinstance(exc, AnswerError)
                    )
                )
                log.warning(
                    "ModelDerm attempt %d/%d on %s failed after %.2fs: %s",
                    attempt + 1,
                    self.max_attempts,
                    host_of(server),
                    elapsed,
                    outcome,
                )
                if isinstance(exc, RequestRejected):
                    rejected.add(server)
                elif isinstance(exc, ServerError) and exc.retry_after_s is not None:
                    not_before[server] = time.monotonic() + exc.retry_after_s
                continue
            latency = time.monotonic() - attempt_started
            log.info(
                "ModelDerm diagnosis from %s in %.2fs (attempt %d, %d conditions)",
                host_of(server),
                latency,
                attempt + 1,
                len(diagnosis.conditions),
            )
            return dataclasses.replace(
                diagnosis, server=server, latency_s=round(latency, 3), attempts=attempt + 1
            )
        if rejected and len(rejected) == len(self.urls):
            raise DiagnosisFailed(failures, retryable=False)
        raise DiagnosisFailed(failures, retryable=True, stopped_because=stopped_because)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "<redacted>") if self._api_key else text

    def _next_server(self, attempt: int, rejected: set[str]) -> str | None:
        """Attempt n goes to server n (wrapping around), skipping servers that refused."""
        count = len(self.urls)
        for offset in range(count):
            url = self.urls[(attempt + offset) % count]
            if url not in rejected:
                return url
        return None

    def _backoff(self, retry: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**retry)]."""
        cap: float = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** min(retry, 32))
        return self._random() * cap

    async def _post(
        self,
        url: str,
        files: list[tuple[str, tuple[str, bytes, str]]],
        form: dict[str, str],
        read_timeout_s: float,
    ) -> Diagnosis:
        response = await self._http.post(url, data=form, files=files, timeout=read_timeout_s)
        status = response.status_code
        body = response.content
        if status == 200:
            return parse_answer(body, response.headers.get("content-type"))
        short = excerpt(body, 60)
        if status == 429:
            raise ServerError(status, short, _retry_after(response.headers.get("retry-after")))
        if 400 <= status < 500 and status != 408:
            raise RequestRejected(status, short)
        raise ServerError(status, short)


def _detail(body: bytes) -> str:
    short = excerpt(body, 60)
    return f" ({short})" if short else ""


def _describe(exc: AnswerError | ServerError) -> str:
    if isinstance(exc, ServerError):
        return str(exc)
    short = excerpt(exc.excerpt, 60)
    return f"unreadable answer ({exc.reason}{': ' + short if short else ''})"


def _describe_transport_error(exc: httpx.HTTPError, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:.1f}s"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if _caused_by_refusal(exc) else "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped without an answer"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection broken"
    return f"HTTP failure ({type(exc).__name__})"


def _caused_by_refusal(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, 24 * 3600.0))
