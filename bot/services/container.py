"""The long-lived clients the bot shares between updates, opened and closed with the app.

Created in `post_init` and closed in `post_shutdown` (see bot/app.py), never at import time, and
reached by handlers through the typed context (`context.services`), not module globals.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.config import Settings
from bot.db.database import Database
from bot.db.users import language_of_user
from bot.domain.advice import AdviceRules
from bot.i18n.memory import RecentLanguages
from bot.imaging import DecodeBudget, DownloadBudget, PhotoPreparer
from bot.imaging.held import HeldPhotos
from bot.modelderm.client import ModelDermClient
from bot.runtime.apiwatch import ApiWatch, watched_client
from bot.runtime.metrics import Metrics, observe_cases, timed_preparer
from bot.services.api_queue import ApiQueue
from bot.services.triage_desk import TriageDesk
from bot.terms import Terms

log = logging.getLogger(__name__)

# An analysis being stopped ends at its next await; this only bounds a database call in flight.
STOP_WAIT_S = 10.0


@dataclass
class Services:
    settings: Settings
    database: Database
    http: httpx.AsyncClient
    api: ModelDermClient
    photos: PhotoPreparer
    advice_rules: AdviceRules
    metrics: Metrics
    api_watch: ApiWatch
    api_queue: ApiQueue
    # Photos being fetched and checked at once (bot/conversation/intake.py), and their bytes.
    photo_checks: asyncio.Semaphore
    # The consent text this deployment shows (bot/terms.py), published at start-up (bot/app.py).
    terms: Terms
    photo_downloads: DownloadBudget
    # The clinic's triage (bot/services/triage_desk.py), when TRIAGE_CHAT_ID is set.
    triage: TriageDesk | None = None
    # Analyses and acknowledgements running in the background, awaited or cancelled on shutdown.
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # The analysis running for each case, so /withdraw and /delete can stop it.
    analyses: dict[uuid.UUID, asyncio.Task[Any]] = field(default_factory=dict)
    # Per-chat state that is only worth keeping while the process runs (album batching).
    scratch: dict[str, dict[int, Any]] = field(default_factory=dict)
    # Stored languages of people seen lately (bot/i18n/memory.py).
    languages: RecentLanguages = field(default_factory=RecentLanguages)
    # Prepared photos of cases not sent yet (bot/imaging/held.py).
    held_photos: HeldPhotos = field(default_factory=HeldPhotos)

    @classmethod
    def open(cls, settings: Settings, metrics: Metrics | None = None) -> Services:
        metrics = metrics or Metrics()
        database = Database.from_settings(settings)
        observe_cases(database, metrics)
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.modelderm_request_timeout_s),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )
        rules = AdviceRules(
            malignant_threshold=settings.advice_malignant_threshold,
            malignancy_output_threshold=settings.advice_malignancy_output_threshold,
            see_doctor_threshold=settings.advice_see_doctor_threshold,
        )
        if settings.advice_rules_file:
            rules = rules.with_file(Path(settings.advice_rules_file))
        watch = ApiWatch(settings.modelderm_api_urls, metrics)
        # One for the process: the API's photos and the clinic's copies decode within it.
        budget = DecodeBudget.from_settings(settings)
        return cls(
            settings=settings,
            database=database,
            http=http,
            api=watched_client(settings, http, watch),
            photos=timed_preparer(settings, metrics, budget),
            advice_rules=rules,
            triage=TriageDesk.from_settings(settings, budget),
            metrics=metrics,
            api_watch=watch,
            api_queue=ApiQueue(settings.api_concurrency),
            # Enough to keep every photo worker busy while the next downloads are on their way;
            # few enough that a burst of photos is not all held in memory at once.
            photo_checks=asyncio.Semaphore(4 * settings.photo_workers),
            terms=Terms.from_settings(settings),
            # By bytes as well: Telegram's compressed photos are a few hundred KB, but a file
            # may be up to PHOTO_MAX_BYTES; two of the largest per worker (one being checked,
            # the next one downloaded) keep the workers as busy without holding eight of them.
            photo_downloads=DownloadBudget(2 * settings.photo_workers * settings.photo_max_bytes),
        )

    async def stored_language(self, telegram_user_id: int) -> str | None:
        """The person's stored language (None if none yet), remembered once read."""
        if (known := self.languages.get(telegram_user_id)) is not None:
            return known
        stored = await self.database.run(language_of_user, telegram_user_id)
        if stored is not None:
            self.languages.remember(telegram_user_id, stored)
        return stored

    def forget_person(self, telegram_user_id: int) -> None:
        """Drop what the process holds about someone whose data was erased."""
        self.languages.forget(telegram_user_id)
        self.held_photos.forget(telegram_user_id)

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coroutine` in the background, kept referenced until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def spawn_analysis(
        self, public_id: uuid.UUID, coroutine: Coroutine[Any, Any, Any]
    ) -> asyncio.Task[Any]:
        """Run a case's analysis in the background, known by the case until it ends."""
        task = self.spawn(coroutine, name=f"analyse-{public_id}")
        self.analyses[public_id] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self.analyses.get(public_id) is done:
                del self.analyses[public_id]

        task.add_done_callback(forget)
        return task

    async def stop_analyses(self, public_ids: Iterable[uuid.UUID]) -> None:
        """Cancel the analyses of these cases and wait until they have ended (a case that
        waits for the API leaves the queue; its "Analysing…" is no longer edited)."""
        stopping = [task for key in public_ids if (task := self.analyses.get(key)) is not None]
        for task in stopping:
            task.cancel()
        if stopping:
            await asyncio.wait(stopping, timeout=STOP_WAIT_S)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def settle(self, grace_s: float) -> None:
        """Give analyses in flight up to `grace_s` to finish (called while Telegram still works)."""
        if self.tasks and grace_s > 0:
            await asyncio.wait(list(self.tasks), timeout=grace_s)

    async def close(self) -> None:
        # Work in flight is parked in the database (cases stay submitted and are retried after
        # a restart), so cancelling it loses nothing.
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.photos.aclose()
        if self.triage is not None:
            await self.triage.aclose()
        await self.http.aclose()
        await self.database.dispose()
