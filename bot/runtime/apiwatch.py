"""What the bot last saw of each API server, and the API metrics, taken from calls it makes anyway.

The health endpoint and /stats report this "last known state" instead of asking the servers on
every probe: a monitoring system polling /healthz every few seconds must not add load to a free,
shared API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import httpx

from bot.config import Settings
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.modelderm.client import BeforeUpload, ModelDermClient, PhotoUpload, ServerStatus
from bot.modelderm.errors import AttemptRecord, DiagnosisFailed, host_of
from bot.runtime.metrics import Metrics


@dataclass
class ServerState:
    """The last thing learnt about one server; `up` is None until anything is known."""

    url: str
    up: bool | None = None
    seen_at: dt.datetime | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": host_of(self.url),
            "state": "unknown" if self.up is None else ("up" if self.up else "down"),
            "seen_at": self.seen_at.isoformat(timespec="seconds") if self.seen_at else None,
            "detail": self.detail,
        }


class ApiWatch:
    def __init__(self, urls: Sequence[str], metrics: Metrics) -> None:
        self.metrics = metrics
        self.servers = {url.rstrip("/"): ServerState(url.rstrip("/")) for url in urls}

    def _set(self, url: str, up: bool, detail: str) -> None:
        state = self.servers.setdefault(url, ServerState(url))
        state.up, state.detail, state.seen_at = up, detail, dt.datetime.now(dt.UTC)

    def diagnosed(self, diagnosis: Diagnosis) -> None:
        host = host_of(diagnosis.server)
        self.metrics.api_seconds.labels(host, "ok").observe(diagnosis.latency_s)
        # Attempt n goes to server n (see ModelDermClient._next_server): with several servers,
        # every attempt after the first moved on to another one.
        urls = list(self.servers)
        if len(urls) > 1:
            self.metrics.api_failovers.inc(max(0, diagnosis.attempts - 1))
            for attempt in range(diagnosis.attempts - 1):
                earlier = urls[attempt % len(urls)]
                if earlier != diagnosis.server:
                    self._set(earlier, False, "failed; another server answered")
        self._set(diagnosis.server, True, f"answered in {diagnosis.latency_s:.1f}s")

    def failed(self, attempts: Sequence[AttemptRecord]) -> None:
        previous: str | None = None
        for attempt in attempts:
            host = host_of(attempt.server)
            self.metrics.api_seconds.labels(host, "error").observe(attempt.elapsed_s)
            if previous is not None and attempt.server != previous:
                self.metrics.api_failovers.inc()
            previous = attempt.server
            self._set(attempt.server, False, attempt.outcome)

    def statuses(self, results: Sequence[ServerStatus]) -> None:
        for result in results:
            detail = f"{result.current_users} user(s) now" if result.up else result.reason or ""
            self._set(result.url, result.up, detail)

    def snapshot(self) -> list[dict[str, Any]]:
        return [state.to_dict() for state in self.servers.values()]


class WatchedModelDermClient(ModelDermClient):
    """The API client that reports every diagnose and status result to an ApiWatch."""

    watch: ApiWatch | None = None

    async def diagnose(
        self,
        photos: Sequence[PhotoUpload],
        questionnaire: Questionnaire,
        case_id: str | None = None,
        *,
        before_upload: BeforeUpload | None = None,
    ) -> Diagnosis:
        try:
            diagnosis = await super().diagnose(
                photos, questionnaire, case_id, before_upload=before_upload
            )
        except DiagnosisFailed as exc:
            if self.watch is not None:
                self.watch.failed(exc.attempts)
            raise
        if self.watch is not None:
            self.watch.diagnosed(diagnosis)
        return diagnosis

    async def status(self) -> list[ServerStatus]:
        results = await super().status()
        if self.watch is not None:
            self.watch.statuses(results)
        return results


def watched_client(settings: Settings, http: httpx.AsyncClient, watch: ApiWatch) -> ModelDermClient:
    client = cast(WatchedModelDermClient, WatchedModelDermClient.from_settings(settings, http))
    client.watch = watch
    return client
