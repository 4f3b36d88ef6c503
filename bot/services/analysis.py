"""From "Send for analysis" to the API's answer, and the retries when the API is down.

Photos wait as Telegram file ids until now; they are downloaded, prepared and sent as one case.
Consent is checked at the press and again right before every upload, in a unit of work of its
own (bot.db.cases.claim_upload): a /withdraw or /delete at any moment before an upload stops it,
whether the case waits for an API slot or between the client's attempts. The analysis starts
whatever happens to "Analysing…", which is only where the result will be shown
(bot.services.delivery).

If the API fails after all its own retries, the case is parked as pending and a repeating job
tries again with backoff, also after a restart, and delivers the result to the same chat: the
person never sends anything twice. An answer that can never be read is a protocol error, not an
outage: after MAX_UNREADABLE_ANSWERS such submissions the case fails, and the person is told
plainly and may try again.

Everything is said in the person's stored language, also from the retry job (no update there).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.db.base import utcnow
from bot.db.cases import (
    claim_due_retries,
    claim_upload,
    drop_unconsented,
    get_case,
    mark_completed,
    mark_failed,
    mark_pending_retry,
    mark_submitted,
    park_orphans,
    set_status_message,
)
from bot.db.claims import Claim, claim_row, renew
from bot.db.database import Database
from bot.db.errors import (
    CaseNotFound,
    CaseStateError,
    ConsentRequired,
    SendingRefused,
    StorageError,
)
from bot.db.models import Case, CaseStatus, Subject
from bot.domain.advice import AdviceRules, advise
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.domain.result import CaseResult
from bot.i18n import speaking
from bot.i18n.texts import text
from bot.imaging import PhotoRejected
from bot.modelderm.client import ModelDermClient
from bot.modelderm.errors import DiagnosisFailed
from bot.services.api_queue import ApiQueue, api_turn
from bot.services.delivery import ResultDelivery, redelivery_delay
from bot.services.languages import StoredLanguages
from bot.services.tasks import TaskRegistry
from bot.services.triage_desk import TriageDesk
from bot.services.uploads import Uploads
from bot.views.keyboards import try_again_keyboard

log = logging.getLogger(__name__)

# Submissions in a row answered only unreadably before the case fails.
MAX_UNREADABLE_ANSWERS = 3
# A case left `submitted` this long with no analysis running for it is parked for a retry.
ORPHAN_AFTER_S = 120.0


@dataclass(frozen=True, slots=True)
class _Round:
    """What an analysis needs to know of the case's earlier submissions."""

    attempts: int
    # Sent on the person's press, not by the retry job: a failure now is news to them.
    pressed: bool
    unreadable_before: int
    # The round's "Analysing…", settled when the check fails for good.
    status_message_id: int | None


@dataclass(frozen=True, slots=True)
class _Sending:
    """A submitted case as its analysis sends it."""

    photos: list[tuple[str, str]]  # (file_id, file_unique_id), in order
    questionnaire: Questionnaire
    chat_id: int
    language: str | None
    round: _Round
    patient_ref: str | None
    checked_at: dt.datetime
    for_someone_else: bool = False


def _sending(
    session: Session, public_id: uuid.UUID, status_message_id: int | None, claim: Claim
) -> _Sending | None:
    """Claim the case, record the round's "Analysing…" and read what to send; None when the
    case is no longer submitted, or another worker is sending it."""
    if status_message_id is not None:
        set_status_message(session, public_id, status_message_id)
    case = get_case(session, public_id)
    if case.status is not CaseStatus.SUBMITTED:
        return None
    claimed = claim_row(
        session,
        Case,
        Case.id == case.id,
        Case.status == CaseStatus.SUBMITTED,
        holder=claim.holder,
        lease=claim.lease,
    )
    if not claimed:
        return None
    return _Sending(
        photos=[(photo.file_id, photo.file_unique_id) for photo in case.accepted_photos],
        questionnaire=case.questionnaire,
        chat_id=case.telegram_user_id,
        language=case.user.language,
        round=_Round(
            attempts=case.attempts,
            pressed=case.submitted_at == case.requested_at,
            unreadable_before=case.unreadable_answers,
            status_message_id=case.status_message_id,
        ),
        patient_ref=case.patient_ref,
        checked_at=case.checked_at,
        for_someone_else=case.subject is Subject.OTHER_WITH_PERMISSION,
    )


def _due_for_retry(
    session: Session, running: set[uuid.UUID], idle_since: dt.datetime, claim: Claim
) -> list[uuid.UUID]:
    """Park the orphaned submitted cases, then claim the parked ones whose time has come."""
    park_orphans(session, running, idle_since=idle_since)
    return claim_due_retries(session, claim)


async def settle_stopped(bot: Bot, chat_id: int, status_message_id: int | None) -> None:
    """Say on a stopped check's "Analysing…" that no result will come (if it can be edited)."""
    if status_message_id is None:
        return
    with contextlib.suppress(TelegramError):
        await bot.edit_message_text(
            text("analysis_stopped"), chat_id=chat_id, message_id=status_message_id
        )


class Analysis:
    """Sends submitted cases to the API, one analysis task per case, and retries parked ones."""

    def __init__(
        self,
        database: Database,
        api: ModelDermClient,
        queue: ApiQueue,
        uploads: Uploads,
        delivery: ResultDelivery,
        desk: TriageDesk | None,
        advice_rules: AdviceRules,
        tasks: TaskRegistry,
        languages: StoredLanguages,
        claim: Claim,
        *,
        retry_base_s: float,
        retry_max_s: float,
    ) -> None:
        self.database, self.api, self.queue = database, api, queue
        self.uploads, self.delivery, self.desk = uploads, delivery, desk
        self.advice_rules, self.tasks, self.languages = advice_rules, tasks, languages
        self.claim = claim
        self.retry_base_s, self.retry_max_s = retry_base_s, retry_max_s

    def start(self, bot: Bot, public_id: uuid.UUID, status_message_id: int | None) -> None:
        """Run a case just stored as submitted in the background, stoppable by its id."""
        work = self.analyse(bot, public_id, status_message_id=status_message_id)
        self.tasks.spawn_for_case(public_id, work)

    def next_attempt(self, attempts: int) -> dt.datetime:
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** max(0, attempts - 1))
        return utcnow() + dt.timedelta(seconds=delay)

    async def analyse(
        self, bot: Bot, public_id: uuid.UUID, *, status_message_id: int | None = None
    ) -> None:
        """Send a submitted case's photos (held since they arrived, or fetched and prepared
        again) to the API; deliver the result or park the case."""
        try:
            sending = await self.database.run(_sending, public_id, status_message_id, self.claim)
        except CaseNotFound:
            log.info("case %s was erased before its analysis began", public_id)
            return
        if sending is None:
            return
        with speaking(sending.language):
            await self._analyse(bot, public_id, sending, status_message_id)

    async def _analyse(
        self,
        bot: Bot,
        public_id: uuid.UUID,
        sending: _Sending,
        status_message_id: int | None,
    ) -> None:
        chat_id, photos, round_ = sending.chat_id, sending.photos, sending.round

        async def claim() -> None:
            await self.database.run(claim_upload, public_id, claim=self.claim)

        diagnosis: Diagnosis | None = None
        retryable, unreadable, error = True, False, ""
        card_photo: bytes | None = None
        try:
            uploads = await self.uploads.of_photos(bot, public_id, photos)
            # The photo the card shows: the first one, exactly as the API received it.
            card_photo = uploads[0].data if uploads else None
            # "Analysing…" shows the place in the queue by edits; no chat action is repeated
            # while the API works, since each would count against Telegram's flood limit.
            async with api_turn(bot, self.queue, chat_id, status_message_id, len(uploads)):
                diagnosis = await self.api.diagnose(
                    uploads, sending.questionnaire, case_id=str(public_id), before_upload=claim
                )
        except ConsentRequired as exc:
            await self._drop_without_consent(bot, public_id, exc.reason)
            return
        except SendingRefused as exc:
            await self._drop_without_consent(
                bot, public_id, exc.reason, message="intimate_child_refused"
            )
            return
        except (CaseNotFound, CaseStateError):
            log.info("case %s erased or cancelled before its upload; nothing sent", public_id)
            return
        except DiagnosisFailed as exc:
            retryable, unreadable, error = exc.retryable, exc.unreadable_answers_only, str(exc)
        except PhotoRejected as exc:
            retryable, error = False, f"photo refused at submission: {exc.reason}"
        except BadRequest as exc:
            # Telegram no longer has the file (ids expire after a long time): retrying cannot
            # help.
            retryable, error = False, f"telegram: {exc.message}"
        except TelegramError as exc:
            error = f"telegram: {exc}"
        if diagnosis is not None:
            await self._complete(bot, public_id, sending, diagnosis, card_photo)
            return
        log.warning("case %s not analysed (attempt %d): %s", public_id, round_.attempts, error)
        unreadable_now = round_.unreadable_before + 1 if unreadable else 0
        gave_up_reading = unreadable_now >= MAX_UNREADABLE_ANSWERS
        try:
            if gave_up_reading:
                reason = f"{unreadable_now} submissions answered unreadably: {error}"
                await self.database.run(
                    mark_failed, public_id, reason, unreadable=True, claim=self.claim
                )
            elif retryable:
                retry_at = self.next_attempt(round_.attempts)
                await self.database.run(
                    mark_pending_retry,
                    public_id,
                    error,
                    retry_at,
                    unreadable=unreadable,
                    claim=self.claim,
                )
            else:
                await self.database.run(mark_failed, public_id, error, claim=self.claim)
        except (CaseNotFound, CaseStateError):
            log.info("case %s was erased or cancelled while it was sent", public_id)
            return
        if gave_up_reading or not retryable:
            await settle_stopped(bot, chat_id, round_.status_message_id)
        with contextlib.suppress(TelegramError):
            if gave_up_reading:
                await bot.send_message(
                    chat_id,
                    text("analysis_unreadable"),
                    reply_markup=try_again_keyboard(public_id),
                )
            elif not retryable:
                await bot.send_message(chat_id, text("analysis_failed"))
            elif round_.pressed:
                await bot.send_message(chat_id, text("pending"))

    async def _complete(
        self,
        bot: Bot,
        public_id: uuid.UUID,
        sending: _Sending,
        diagnosis: Diagnosis,
        card_photo: bytes | None,
    ) -> None:
        desk = self.desk
        advice = advise(diagnosis, sending.questionnaire, self.advice_rules)

        def complete(session: Session) -> bool:
            """Whether the clinic's queue took the case."""
            # Should this process stop before delivering, the redelivery job takes over then.
            deliver_by = utcnow() + redelivery_delay(0)
            case = mark_completed(
                session, public_id, diagnosis, deliver_by=deliver_by, claim=self.claim
            )
            # Queued in the same transaction: a completed case always reaches the clinic.
            return desk is not None and desk.enqueue(session, case, advice)

        try:
            queued = await self.database.run(complete)
        except (CaseNotFound, CaseStateError):
            # Erased (or cancelled) while the upload was on the wire: the answer goes nowhere.
            log.info("case %s erased while it was analysed; its result is discarded", public_id)
            return
        result = CaseResult(
            public_id=public_id,
            chat_id=sending.chat_id,
            language=sending.language,
            diagnosis=diagnosis,
            advice=advice,
            clinic_queued=queued,
            questionnaire=sending.questionnaire,
            patient_ref=sending.patient_ref,
            checked_at=sending.checked_at,
            card_photo=card_photo,
            for_someone_else=sending.for_someone_else,
        )
        await self.delivery.deliver(bot, public_id, result)
        if queued and desk is not None:
            desk.post_soon(bot)

    async def retry_pending(self, bot: Bot) -> None:
        """Repeating job: resubmit parked cases whose time has come; deliver the results due."""
        idle_since = utcnow() - dt.timedelta(seconds=ORPHAN_AFTER_S)
        due = await self.database.run(_due_for_retry, self.tasks.cases(), idle_since, self.claim)
        for public_id in due:
            try:
                await self.database.run(mark_submitted, public_id, claim=self.claim)
            except ConsentRequired as exc:
                await self._drop_without_consent(bot, public_id, exc.reason)
                continue
            except StorageError:
                continue  # cancelled or taken by another worker meanwhile
            self.tasks.spawn_for_case(public_id, self.analyse(bot, public_id))
        await self.delivery.redeliver(bot)

    async def renew_claims(self) -> None:
        """Repeating job: keep the claims of the cases this process is sending, so that no other
        process takes one over while its analysis runs (a stopped process's run out)."""
        running = self.tasks.cases()
        if running:
            await self.database.run(
                renew,
                Case,
                Case.public_id.in_(running),
                Case.status == CaseStatus.SUBMITTED,
                holder=self.claim.holder,
                lease=self.claim.lease,
            )

    async def _drop_without_consent(
        self,
        bot: Bot,
        public_id: uuid.UUID,
        reason: str,
        *,
        message: str = "pending_dropped_no_consent",
    ) -> None:
        """Discard a case whose photos may not leave (no consent now, or never), and say so."""
        try:
            case = await self.database.run(drop_unconsented, public_id, f"not sent: {reason}")
        except (CaseNotFound, CaseStateError):
            return
        chat_id, status_message_id = case.telegram_user_id, case.status_message_id
        with speaking(await self.languages.of(chat_id)):
            await settle_stopped(bot, chat_id, status_message_id)
            with contextlib.suppress(TelegramError):
                await bot.send_message(chat_id, text(message))
