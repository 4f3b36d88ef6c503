"""Prometheus metrics of one running bot, and the one place where they are recorded.

Each application gets its own registry (never prometheus_client's global one), so two bots in one
process, or two tests, never see each other's numbers. Recording stays out of the handlers:
case counts come from the database session (a case row changing status, seen after commit),
update handling time from the update processor, API figures from the API client wrapper
(bot/runtime/apiwatch.py), photo preparation time from the preparer wrapper below.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from telegram.ext import AIORateLimiter
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.config import Settings
from bot.db.database import Database
from bot.db.models import Case, CaseStatus
from bot.imaging import DecodeBudget, PhotoPreparer
from bot.imaging.pipeline import PreparedPhoto
from bot.runtime.processor import PerChatUpdateProcessor

# A JSON object as the Bot API answers it (PTB's own alias is private).
JSONDict = dict[str, Any]
CONTENT_TYPE = CONTENT_TYPE_LATEST
METRICS_KEY = "metrics"
_TRANSITIONS_KEY = "metrics_case_transitions"
PREFIX = "modelderm_bot"

# Handling an update is mostly a few database writes and Telegram calls: milliseconds.
UPDATE_BUCKETS = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
)
API_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0)
PHOTO_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The bot's counters, gauges and histograms, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry

        def counter(name: str, doc: str) -> Counter:
            return Counter(f"{PREFIX}_{name}", doc, registry=r)

        self.cases_started = counter("cases_started", "Cases started (a person began a check).")
        self.cases_submitted = counter(
            "cases_submitted", "Submissions to the API (a retried case counts again)."
        )
        self.cases_completed = counter("cases_completed", "Cases analysed by the API.")
        self.cases_failed = counter("cases_failed", "Cases given up on (the API refused them).")
        self.cases_pending = Gauge(
            f"{PREFIX}_cases_pending",
            "Cases submitted or waiting for a retry, as stored (read at each scrape).",
            registry=r,
        )
        self.api_seconds = Histogram(
            f"{PREFIX}_api_request_seconds",
            "Time of one diagnose attempt, per API server and outcome.",
            ("server", "outcome"),
            buckets=API_BUCKETS,
            registry=r,
        )
        self.api_failovers = counter(
            "api_failovers", "Diagnose attempts that moved on to another API server."
        )
        self.api_waiting = Gauge(
            f"{PREFIX}_api_queue_waiting",
            "Cases waiting for a free API slot (API_CONCURRENCY).",
            registry=r,
        )
        self.api_running = Gauge(
            f"{PREFIX}_api_queue_running", "Diagnose calls in flight.", registry=r
        )
        self.photo_seconds = Histogram(
            f"{PREFIX}_photo_prepare_seconds",
            "Time to check and prepare one photo, waiting for a worker included.",
            buckets=PHOTO_BUCKETS,
            registry=r,
        )
        self.update_seconds = Histogram(
            f"{PREFIX}_update_seconds",
            "Time the bot spent handling one update (its _count is the updates handled).",
            buckets=UPDATE_BUCKETS,
            registry=r,
        )
        self.update_own_seconds = Histogram(
            f"{PREFIX}_update_own_seconds",
            "Handling time of one update minus the time its Telegram calls took (Bot API calls, "
            "their flood-limit waits included, and file downloads): the bot's own work "
            "(database, photos, code).",
            buckets=UPDATE_BUCKETS,
            registry=r,
        )
        self._by_status = {
            CaseStatus.SUBMITTED: self.cases_submitted,
            CaseStatus.COMPLETED: self.cases_completed,
            CaseStatus.FAILED: self.cases_failed,
        }

    def case_changed(self, status: CaseStatus | None) -> None:
        """A case was stored with a new status (None: a new case)."""
        if status is None or status is CaseStatus.COLLECTING:
            self.cases_started.inc()
        elif (counter := self._by_status.get(status)) is not None:
            counter.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


# ------------------------------------------------------------------------- case transitions


def observe_cases(database: Database, metrics: Metrics) -> None:
    """Count case status changes of every unit of work of `database`, once committed."""
    database.configure_sessions(info={METRICS_KEY: metrics})
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def _after_flush(session: Session, flush_context: Any) -> None:
    if METRICS_KEY not in session.info:
        return
    changes: list[CaseStatus | None] = session.info.setdefault(_TRANSITIONS_KEY, [])
    for obj in itertools.chain(session.new, session.dirty):
        if not isinstance(obj, Case):
            continue
        if obj in session.new:
            changes.append(None)
            continue
        added = inspect(obj).attrs.status.history.added
        if added:
            changes.append(CaseStatus(added[-1]))


def _after_commit(session: Session) -> None:
    metrics = session.info.get(METRICS_KEY)
    changes = session.info.pop(_TRANSITIONS_KEY, None)
    if isinstance(metrics, Metrics) and changes:
        for status in changes:
            metrics.case_changed(status)


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_TRANSITIONS_KEY, None)


# ------------------------------------------------------------------------------- wrappers


class MeasuredUpdateProcessor(PerChatUpdateProcessor):
    """The per-chat processor, timing each update from the moment its chat's turn comes."""

    def __init__(self, metrics: Metrics, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self.metrics = metrics

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await super().do_process_update(update, self._timed(coroutine))

    async def _timed(self, coroutine: Awaitable[Any]) -> None:
        in_telegram = [0.0]
        token = _telegram_seconds.set(in_telegram)
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            took = time.perf_counter() - started
            _telegram_seconds.reset(token)
            self.metrics.update_seconds.observe(took)
            self.metrics.update_own_seconds.observe(max(0.0, took - in_telegram[0]))


# Seconds the current update has spent in Telegram calls (set per update by the processor).
_telegram_seconds: ContextVar[list[float] | None] = ContextVar("telegram_seconds", default=None)


class MeasuredRateLimiter(AIORateLimiter):
    """PTB's rate limiter (Telegram's flood limits), also noting how long each call took."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        started = time.perf_counter()
        try:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        finally:
            spent = _telegram_seconds.get()
            if spent is not None:
                spent[0] += time.perf_counter() - started


class MeasuredRequest(HTTPXRequest):
    """PTB's HTTP client to Telegram, also counting file downloads as time spent in Telegram.

    Bot API calls (POST) are timed by MeasuredRateLimiter, their flood-limit waits included;
    downloads from Telegram's file server (GET) bypass the rate limiter and are timed here, so
    that a slow file server does not count as the bot's own handling time.
    """

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # Forwarded as given: PTB passes each one, a float or its "not given" marker.
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if (instead := await self.answer_instead(request_data)) is not None:
            return instead
        call = super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        spent = _telegram_seconds.get()
        if method != "GET" or spent is None:
            return await call
        started = time.perf_counter()
        try:
            return await call
        finally:
            spent[0] += time.perf_counter() - started

    async def answer_instead(self, request_data: RequestData | None) -> tuple[int, bytes] | None:
        """For a subclass: the answer to give without sending the request (None: send it), or
        raise to refuse it."""
        del request_data
        return None


class TimedPhotoPreparer(PhotoPreparer):
    """The photo preparer, recording how long each photo took."""

    metrics: Metrics | None = None

    async def prepare(self, data: bytes) -> PreparedPhoto:
        started = time.perf_counter()
        try:
            return await super().prepare(data)
        finally:
            if self.metrics is not None:
                self.metrics.photo_seconds.observe(time.perf_counter() - started)


def timed_preparer(settings: Settings, metrics: Metrics, budget: DecodeBudget) -> PhotoPreparer:
    preparer = cast(TimedPhotoPreparer, TimedPhotoPreparer.from_settings(settings, budget))
    preparer.metrics = metrics
    return preparer
