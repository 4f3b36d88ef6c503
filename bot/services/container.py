"""The services the handlers use, opened and closed with the app.

Created in `post_init` and closed in `post_shutdown` (see bot/app.py), never at import time, and
reached by handlers through the typed context (`context.services`), not module globals. Only the
handlers see this container: each service below is built here with what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.config import ConfigError, Settings
from bot.db.claims import Claim, release_all, worker_id
from bot.db.database import Database
from bot.domain.advice import AdviceRules
from bot.imaging import DecodeBudget, DownloadBudget, PhotoPreparer
from bot.imaging.held import HeldPhotos
from bot.modelderm.client import ModelDermClient
from bot.runtime.apiwatch import ApiWatch, watched_client
from bot.runtime.leadership import Leadership, guard_commits
from bot.runtime.metrics import Metrics, observe_cases, timed_preparer
from bot.services.analysis import Analysis
from bot.services.api_queue import ApiQueue
from bot.services.delivery import ResultDelivery
from bot.services.intake import PhotoIntake
from bot.services.languages import StoredLanguages
from bot.services.reminders import Reminders
from bot.services.tasks import TaskRegistry
from bot.services.triage_desk import TriageDesk
from bot.services.uploads import Uploads
from bot.terms import Terms


def advice_rules_of(settings: Settings) -> AdviceRules:
    """The advice rule table's thresholds from the settings, then the rules file's changes."""
    rules = AdviceRules(
        top_n=settings.advice_top_n,
        emergency_min_score=settings.advice_emergency_min_score,
        treatment_min_score=settings.advice_treatment_min_score,
        cancer_min_score=settings.advice_cancer_min_score,
        malignancy_output_threshold=settings.advice_malignancy_output_threshold,
        persists_min_score=settings.advice_persists_min_score,
        unsure_below=settings.advice_unsure_below,
    )
    if settings.advice_rules_file:
        try:
            rules = rules.with_file(Path(settings.advice_rules_file))
        except (OSError, ValueError, TypeError) as exc:
            # One sentence at start-up, like every other wrong setting.
            raise ConfigError(f"The setting ADVICE_RULES_FILE is invalid: {exc}.") from None
    return rules


@dataclass
class Services:
    settings: Settings
    database: Database
    http: httpx.AsyncClient
    api: ModelDermClient
    # The process's one pool of photo workers (the clinic's copies are made on it too).
    photos: PhotoPreparer
    advice_rules: AdviceRules
    metrics: Metrics
    api_watch: ApiWatch
    api_queue: ApiQueue
    # The consent text this deployment shows (bot/terms.py), published at start-up (bot/app.py).
    terms: Terms
    # Analyses and acknowledgements running in the background, awaited or cancelled on shutdown.
    tasks: TaskRegistry
    # Stored languages of people seen lately.
    languages: StoredLanguages
    # Prepared photos of cases not sent yet (bot/imaging/held.py).
    held_photos: HeldPhotos
    intake: PhotoIntake
    uploads: Uploads
    delivery: ResultDelivery
    analysis: Analysis
    # The clinic's triage (bot/services/triage_desk.py), when TRIAGE_CHAT_ID is set.
    triage: TriageDesk | None
    # Follow-up reminders asked for under results (bot/services/reminders.py).
    reminders: Reminders
    # This process as the claimant of work (bot/db/claims.py), with the lease of its claims.
    claim: Claim

    @classmethod
    def open(
        cls,
        settings: Settings,
        metrics: Metrics | None = None,
        leadership: Leadership | None = None,
    ) -> Services:
        """The services of a process that leads (`leadership`; by default the only process)."""
        metrics = metrics or Metrics()
        leadership = leadership or Leadership.alone(worker_id())
        claim = Claim(leadership.holder, dt.timedelta(seconds=settings.claim_lease_s))
        database = Database.from_settings(settings)
        observe_cases(database, metrics)
        guard_commits(database, leadership)
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.modelderm_request_timeout_s),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )
        rules = advice_rules_of(settings)
        watch = ApiWatch(settings.modelderm_api_urls, metrics)
        api = watched_client(settings, http, watch)
        # One for the process: the API's photos and the clinic's copies decode within it.
        budget = DecodeBudget.from_settings(settings)
        photos = timed_preparer(settings, metrics, budget)
        queue = ApiQueue(settings.api_concurrency)
        tasks = TaskRegistry()
        languages = StoredLanguages(database)
        held = HeldPhotos()
        uploads = Uploads(database, photos, held)
        intake = PhotoIntake(
            database,
            photos,
            held,
            tasks,
            # Enough to keep every photo worker busy while the next downloads are on their way;
            # few enough that a burst of photos is not all held in memory at once.
            checks=asyncio.Semaphore(4 * settings.photo_workers),
            # By bytes as well: Telegram's compressed photos are a few hundred KB, but a file
            # may be up to PHOTO_MAX_BYTES; two of the largest per worker (one being checked,
            # the next one downloaded) keep the workers as busy without holding eight of them.
            downloads=DownloadBudget(2 * settings.photo_workers * settings.photo_max_bytes),
            max_bytes=settings.photo_max_bytes,
            quiet_s=settings.album_quiet_s,
        )
        desk = TriageDesk.from_settings(settings, database, tasks, photos, rules, claim)
        reminders = Reminders(
            database,
            choices=tuple(settings.follow_up_after_days),
            hours=settings.reminder_window,
            zone=settings.zone,
            worker=claim.holder,
        )
        delivery = ResultDelivery(
            database,
            uploads,
            rules,
            top=settings.result_top_n,
            clinic_on=desk is not None,
            claim=claim,
            zone=settings.zone,
            protect=settings.protect_results,
            reminder_choices=reminders.choices,
        )
        analysis = Analysis(
            database,
            api,
            queue,
            uploads,
            delivery,
            desk,
            rules,
            tasks,
            languages,
            claim,
            retry_base_s=settings.retry_base_s,
            retry_max_s=settings.retry_max_s,
        )
        return cls(
            settings=settings,
            database=database,
            http=http,
            api=api,
            photos=photos,
            advice_rules=rules,
            metrics=metrics,
            api_watch=watch,
            api_queue=queue,
            terms=Terms.from_settings(settings),
            tasks=tasks,
            languages=languages,
            held_photos=held,
            intake=intake,
            uploads=uploads,
            delivery=delivery,
            analysis=analysis,
            triage=desk,
            reminders=reminders,
            claim=claim,
        )

    def forget_person(self, telegram_user_id: int) -> None:
        """Drop what the process holds about someone whose data was erased."""
        self.languages.forget(telegram_user_id)
        self.held_photos.forget_sender(telegram_user_id)

    async def settle(self, grace_s: float) -> None:
        """Give analyses in flight up to `grace_s` to finish (called while Telegram still works)."""
        await self.tasks.settle(grace_s)

    async def close(self) -> None:
        # Work in flight is parked in the database (cases stay submitted and are retried after
        # a restart), so cancelling it loses nothing.
        await self.tasks.cancel_all()
        with contextlib.suppress(Exception):  # a database gone: the claims run out instead
            await self.database.run(release_all, self.claim.holder)
        await self.photos.aclose()
        await self.http.aclose()
        await self.database.dispose()
