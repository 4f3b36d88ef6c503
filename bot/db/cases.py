"""Cases and their photos, through their life: collecting -> submitted -> completed.

A submission that fails goes to pending_retry (and back to submitted when retried) or to
failed; each upload of a submitted case is claimed under the consent current at that moment.
Every change first locks the case row with an UPDATE, which blocks a concurrent writer of the
same case on PostgreSQL (row lock) and on SQLite (the database write lock) alike, so two tasks
adding photos never both take the same position or a sixth one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from bot.db.base import utcnow
from bot.db.claims import Claim, claim_rows, held_by_other, release
from bot.db.consent import require_current_consent
from bot.db.errors import (
    CaseAlreadyOpen,
    CaseFull,
    CaseNotFound,
    CaseStateError,
    SendingRefused,
)
from bot.db.fair_use import record_submission
from bot.db.models import (
    ERROR_TEXT_MAX,
    MAX_PHOTOS,
    PATIENT_REF_MAX,
    Case,
    CasePhoto,
    CaseStatus,
    PhotoState,
    Subject,
    User,
)
from bot.db.users import touch_user
from bot.domain.diagnosis import Diagnosis
from bot.domain.safeguards import refuses_sending


@dataclass(frozen=True, slots=True)
class PhotoRef:
    """Telegram's reference to a photo; the bytes are fetched only when the case is sent."""

    file_id: str
    file_unique_id: str
    file_size: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class PhotoAdded:
    photo: CasePhoto
    # True when this very photo was already on the case (Telegram resends, double taps).
    duplicate: bool
    count: int


def lock_case(session: Session, public_id: uuid.UUID, now: dt.datetime) -> Case:
    """The case with its row locked until the transaction ends (see the module's docstring)."""
    case = session.scalar(
        update(Case)
        .where(Case.public_id == public_id)
        .values(updated_at=now)
        .returning(Case)
        .execution_options(populate_existing=True)
    )
    if case is None:
        raise CaseNotFound(public_id)
    # The RETURNING above loads columns only; load the photos now that the row is locked.
    session.refresh(case, ["photos", "user"])
    return case


# Another worker's live claim on a case, as CaseStateError says it.
CLAIMED_ELSEWHERE = "claimed by another worker"


def _require_claim(case: Case, action: str, claim: Claim | None, now: dt.datetime) -> None:
    """Refuse to act on a case another worker holds now; take (or renew) it for `claim`."""
    if held_by_other(case, None if claim is None else claim.holder, now):
        raise CaseStateError(case.public_id, CLAIMED_ELSEWHERE, action)
    if claim is not None:
        case.claimed_by, case.claimed_until = claim.holder, now + claim.lease


def _require(case: Case, action: str, *allowed: CaseStatus) -> None:
    if case.status not in allowed:
        raise CaseStateError(case.public_id, case.status, action)


def _clean_ref(patient_ref: str | None) -> str | None:
    if patient_ref is None:
        return None
    cleaned = " ".join(patient_ref.split())[:PATIENT_REF_MAX]
    return cleaned or None


def create_case(
    session: Session,
    telegram_user_id: int,
    *,
    language: str | None = None,
    subject: Subject = Subject.OWN,
    patient_ref: str | None = None,
    step: str | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Start collecting a new case (at its first step, or `step`); CaseAlreadyOpen if one is
    still being collected."""
    now = now or utcnow()
    user = touch_user(session, telegram_user_id, language, now=now)
    existing = session.scalar(
        select(Case.public_id).where(Case.user_id == user.id, Case.status == CaseStatus.COLLECTING)
    )
    if existing is not None:
        raise CaseAlreadyOpen(existing)
    case = Case(
        user=user,
        subject=subject,
        patient_ref=_clean_ref(patient_ref),
        created_at=now,
        **({} if step is None else {"step": step}),
        updated_at=now,
    )
    session.add(case)
    session.flush()
    session.refresh(case, ["photos"])
    return case


def open_case(session: Session, telegram_user_id: int) -> Case | None:
    """The case the person is collecting now, if any."""
    return session.scalar(
        select(Case)
        .join(Case.user)
        .where(User.telegram_user_id == telegram_user_id, Case.status == CaseStatus.COLLECTING)
    )


def checked_someone_else_last(session: Session, user_id: int) -> bool:
    """Whether the latest check the person (`users.id`) sent was of someone else's skin: a field
    worker is then offered "Someone else's" first."""
    subject = session.scalar(
        select(Case.subject)
        .where(Case.user_id == user_id, Case.submitted_at.is_not(None))
        .order_by(Case.id.desc())
        .limit(1)
    )
    return subject is Subject.OTHER_WITH_PERMISSION


def get_case(session: Session, public_id: uuid.UUID) -> Case:
    case = session.scalar(select(Case).where(Case.public_id == public_id))
    if case is None:
        raise CaseNotFound(public_id)
    return case


def add_photo(
    session: Session,
    public_id: uuid.UUID,
    photo: PhotoRef,
    *,
    now: dt.datetime | None = None,
) -> PhotoAdded:
    """Add a photo at the next position; the same photo twice is kept once; CaseFull at six."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "add a photo to", CaseStatus.COLLECTING)
    for existing in case.photos:
        if existing.file_unique_id == photo.file_unique_id:
            return PhotoAdded(existing, duplicate=True, count=len(case.photos))
    if len(case.photos) >= MAX_PHOTOS:
        raise CaseFull(public_id, MAX_PHOTOS)
    taken = {p.position for p in case.photos}
    position = next(n for n in range(1, MAX_PHOTOS + 1) if n not in taken)
    added = CasePhoto(
        position=position,
        file_id=photo.file_id,
        file_unique_id=photo.file_unique_id,
        file_size=photo.file_size,
        width=photo.width,
        height=photo.height,
        added_at=now,
    )
    case.photos.append(added)
    session.flush()
    return PhotoAdded(added, duplicate=False, count=len(case.photos))


def remove_photo(
    session: Session,
    public_id: uuid.UUID,
    position: int,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Remove the photo at `position` from a collecting case; False if there is none."""
    case = lock_case(session, public_id, now or utcnow())
    _require(case, "remove a photo from", CaseStatus.COLLECTING)
    for photo in case.photos:
        if photo.position == position:
            case.photos.remove(photo)
            session.flush()
            return True
    return False


def settle_photos(
    session: Session,
    public_id: uuid.UUID,
    *,
    accepted: list[int],
    rejected: list[int],
    now: dt.datetime | None = None,
) -> None:
    """A batch's acknowledgement, one unit of work: the photos at `accepted` positions count
    from now on, those at `rejected` leave the case (they never counted)."""
    case = lock_case(session, public_id, now or utcnow())
    _require(case, "settle the photos of", CaseStatus.COLLECTING)
    for photo in list(case.photos):
        if photo.position in rejected:
            case.photos.remove(photo)
        elif photo.position in accepted:
            photo.state = PhotoState.ACCEPTED
    session.flush()


def unchecked_photos(session: Session) -> list[tuple[int, uuid.UUID, CasePhoto]]:
    """Photos of collecting cases never acknowledged (the bot stopped first): (the sender,
    the case, the photo), to check again."""
    found = session.scalars(
        select(CasePhoto)
        .join(CasePhoto.case)
        .where(CasePhoto.state == PhotoState.UNCHECKED, Case.status == CaseStatus.COLLECTING)
        .options(selectinload(CasePhoto.case))
        .order_by(CasePhoto.case_id, CasePhoto.position)
    )
    return [(photo.case.telegram_user_id, photo.case.public_id, photo) for photo in found]


def mark_submitted(
    session: Session,
    public_id: uuid.UUID,
    *,
    again: bool = False,
    claim: Claim | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """About to send: requires an accepted consent to the current terms (ConsentRequired).

    The consent is linked to the case as proof; every upload is claimed again under the consent
    current at that moment (claim_upload). A collecting case is sent on the person's press, a
    parked one by the retry job, and a case that failed on unreadable answers only when the
    person asks for it `again`. `claim`: the worker that will send it (the retry job's).
    """
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    allowed = [CaseStatus.COLLECTING, CaseStatus.PENDING_RETRY]
    if again and case.unreadable_answers > 0:
        allowed.append(CaseStatus.FAILED)
    _require(case, "submit", *allowed)
    _require_claim(case, "submit", claim, now)
    if not case.accepted_photos:
        raise CaseStateError(case.public_id, "without photos", "submit")
    consent = require_current_consent(session, case.user.telegram_user_id)
    if case.status is not CaseStatus.PENDING_RETRY:
        # The person pressed: a new round, with its own status message and delivery, and a
        # check sent for fair use (a retry of a parked one is not another one).
        record_submission(session, case.user.telegram_user_id, now=now)
        case.requested_at = now
        case.status_message_id = None
        case.unreadable_answers = 0
        case.failed_at = None
        _reset_delivery(case)
    case.status = CaseStatus.SUBMITTED
    case.consent_record_id = consent.id
    case.submitted_at = now
    case.last_attempt_at = now
    case.next_attempt_at = None
    case.uploads = 0
    case.attempts += 1
    session.flush()
    return case


def _reset_delivery(case: Case) -> None:
    case.delivered_at = None
    case.delivery_attempts = 0
    case.next_delivery_at = None
    case.result_message_at = None
    case.card_attempted_at = None
    case.delivery_given_up_at = None
    case.delivery_failure = None


def set_status_message(
    session: Session, public_id: uuid.UUID, message_id: int, *, now: dt.datetime | None = None
) -> None:
    """Remember the "Analysing…" message of the current round, which the result replaces."""
    case = lock_case(session, public_id, now or utcnow())
    case.status_message_id = message_id
    session.flush()


def claim_upload(
    session: Session,
    public_id: uuid.UUID,
    *,
    claim: Claim | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Right before each HTTP upload of the case's photos: may they leave now?

    Run by the API client before every attempt (its `before_upload`), as a unit of work of
    its own, so a withdrawal or an erasure committed at any moment before stops the upload.
    Raises CaseNotFound (erased), CaseStateError (cancelled meanwhile), ConsentRequired or
    SendingRefused. `claim`: the worker sending it, which must still hold the case (another
    worker took it over when this one stalled past its lease: CaseStateError).
    """
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "upload", CaseStatus.SUBMITTED)
    _require_claim(case, "upload", claim, now)
    consent = require_current_consent(session, case.user.telegram_user_id)
    # What may never leave the bot whatever the consent is refused here as well, before the
    # claim is recorded: this is the last step before the wire (a case parked before the rule
    # existed never passed the check at "Send").
    if refuses_sending(case.questionnaire, now.date()):
        raise SendingRefused(case.public_id, "intimate photos of someone who may be a child")
    case.consent_record_id = consent.id
    case.uploads += 1
    case.last_upload_at = now
    session.flush()
    return case


def mark_completed(
    session: Session,
    public_id: uuid.UUID,
    diagnosis: Diagnosis,
    *,
    deliver_by: dt.datetime | None = None,
    claim: Claim | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """The API answered. `deliver_by`: when a redelivery is due if this process does not
    deliver it first (a crash between here and the delivery); by default at once. `claim`:
    the worker that sent it; the answer of one whose case was taken over is refused."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "complete", CaseStatus.SUBMITTED)
    _require_claim(case, "complete", claim, now)
    release(case)
    case.status = CaseStatus.COMPLETED
    case.diagnosis = diagnosis.to_dict()
    case.server = diagnosis.server or None
    case.latency_s = diagnosis.latency_s
    case.completed_at = now
    case.last_error = None
    case.unreadable_answers = 0
    case.next_delivery_at = deliver_by or now
    session.flush()
    return case


def mark_pending_retry(
    session: Session,
    public_id: uuid.UUID,
    error: str,
    next_attempt_at: dt.datetime,
    *,
    unreadable: bool = False,
    claim: Claim | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """The API failed for now; keep everything and try again at `next_attempt_at`.

    `unreadable`: every answer of this submission was unreadable (counted, so that an answer
    that can never be read ends the case instead of being uploaded forever).
    """
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "park for retry", CaseStatus.SUBMITTED)
    _require_claim(case, "park for retry", claim, now)
    release(case)
    case.status = CaseStatus.PENDING_RETRY
    case.last_error = error[:ERROR_TEXT_MAX]
    case.next_attempt_at = next_attempt_at
    case.unreadable_answers = case.unreadable_answers + 1 if unreadable else 0
    session.flush()
    return case


def mark_failed(
    session: Session,
    public_id: uuid.UUID,
    error: str,
    *,
    unreadable: bool = False,
    claim: Claim | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Give up on the case (e.g. the API refused it, or its answers could never be read)."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "fail", CaseStatus.SUBMITTED, CaseStatus.PENDING_RETRY)
    _require_claim(case, "fail", claim, now)
    release(case)
    case.status = CaseStatus.FAILED
    case.last_error = error[:ERROR_TEXT_MAX]
    case.failed_at = now
    case.next_attempt_at = None
    case.unreadable_answers = case.unreadable_answers + 1 if unreadable else 0
    session.flush()
    return case


def _discard(case: Case, now: dt.datetime, reason: str | None = None) -> None:
    case.status = CaseStatus.CANCELLED
    case.cancelled_at = now
    case.next_attempt_at = None
    if reason is not None:
        case.last_error = reason[:ERROR_TEXT_MAX]
    # The person discarded it: keep the row for counts, not their answers or photo references.
    case.answers = None
    case.patient_ref = None
    case.photos.clear()


def cancel_case(
    session: Session,
    public_id: uuid.UUID,
    *,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """The person stopped, or a parked case may no longer be sent (`reason` says why).

    A case being sent right now is not cancelled here: see stop_unsent and claim_upload.
    """
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "cancel", CaseStatus.COLLECTING, CaseStatus.PENDING_RETRY)
    _discard(case, now, reason)
    session.flush()
    return case


def drop_unconsented(
    session: Session, public_id: uuid.UUID, reason: str, *, now: dt.datetime | None = None
) -> Case:
    """A case whose upload was refused for want of consent: it is discarded, never sent."""
    now = now or utcnow()
    case = lock_case(session, public_id, now)
    _require(case, "drop", CaseStatus.SUBMITTED, CaseStatus.PENDING_RETRY)
    _discard(case, now, reason)
    session.flush()
    return case


@dataclass(frozen=True, slots=True)
class StoppedCase:
    public_id: uuid.UUID
    # Its "Analysing…" message, to settle.
    status_message_id: int | None


@dataclass(frozen=True, slots=True)
class Stopped:
    # Waiting to be sent (queued, or parked for a retry): cancelled, nothing more will leave.
    cancelled: tuple[StoppedCase, ...]
    # Uploaded at least once in this submission: on the wire now, or between the client's
    # attempts; the next attempt's claim refuses it (claim_upload).
    on_the_way: tuple[StoppedCase, ...]


def stop_unsent(
    session: Session,
    telegram_user_id: int,
    *,
    reason: str,
    now: dt.datetime | None = None,
) -> Stopped:
    """Cancel the person's cases that wait to be sent, in the unit of work that withdraws (or
    erases); list the ones already on their way."""
    now = now or utcnow()
    candidates = session.scalars(
        select(Case.public_id)
        .join(Case.user)
        .where(
            User.telegram_user_id == telegram_user_id,
            Case.status.in_([CaseStatus.SUBMITTED, CaseStatus.PENDING_RETRY]),
        )
        .order_by(Case.id)
    )
    cancelled: list[StoppedCase] = []
    on_the_way: list[StoppedCase] = []
    for public_id in list(candidates):
        # Locked, then looked at: a claim committed just before is seen, one just after waits.
        case = lock_case(session, public_id, now)
        stopped = StoppedCase(case.public_id, case.status_message_id)
        if case.status is CaseStatus.SUBMITTED and case.uploads > 0:
            on_the_way.append(stopped)
        elif case.status in (CaseStatus.SUBMITTED, CaseStatus.PENDING_RETRY):
            _discard(case, now, reason)
            cancelled.append(stopped)
    session.flush()
    return Stopped(tuple(cancelled), tuple(on_the_way))


def recent_cases(session: Session, telegram_user_id: int, limit: int = 10) -> list[Case]:
    """The person's latest cases, newest first."""
    result = session.scalars(
        select(Case)
        .join(Case.user)
        .where(User.telegram_user_id == telegram_user_id)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return list(result)


def claim_due_cases(
    session: Session,
    claim: Claim,
    status: CaseStatus,
    due_at: InstrumentedAttribute[dt.datetime | None],
    *,
    now: dt.datetime | None = None,
    limit: int = 20,
) -> list[uuid.UUID]:
    """Claim the cases in `status` whose `due_at` has come, the longest due first, leaving those
    another worker holds."""
    now = now or utcnow()
    ids = claim_rows(
        session,
        Case,
        Case.status == status,
        due_at <= now,
        order_by=(due_at, Case.id),
        holder=claim.holder,
        lease=claim.lease,
        limit=limit,
        now=now,
    )
    return public_ids_of(session, ids)


def claim_due_retries(
    session: Session, claim: Claim, *, now: dt.datetime | None = None, limit: int = 20
) -> list[uuid.UUID]:
    """Claim the parked cases whose next attempt time has come."""
    return claim_due_cases(
        session, claim, CaseStatus.PENDING_RETRY, Case.next_attempt_at, now=now, limit=limit
    )


def public_ids_of(session: Session, ids: list[int]) -> list[uuid.UUID]:
    """The public ids of the cases of these row ids, in the same order."""
    if not ids:
        return []
    rows = session.execute(select(Case.id, Case.public_id).where(Case.id.in_(ids)))
    by_id = {case_id: public_id for case_id, public_id in rows}
    return [by_id[case_id] for case_id in ids]


def _abandoned(now: dt.datetime, idle_since: dt.datetime) -> ColumnElement[bool]:
    """Submitted cases nobody works on: their worker's claim ran out (it stopped or froze), or
    they were never claimed and have lain idle since `idle_since`."""
    return and_(
        Case.status == CaseStatus.SUBMITTED,
        or_(
            Case.claimed_until <= now,
            and_(Case.claimed_until.is_(None), Case.updated_at < idle_since),
        ),
    )


def park_orphans(
    session: Session,
    running: set[uuid.UUID],
    *,
    idle_since: dt.datetime,
    now: dt.datetime | None = None,
) -> int:
    """Cases left `submitted` with no analysis running for them (its task died before it could
    park the case, or its worker stopped and its claim ran out; unclaimed ones untouched since
    `idle_since`): parked for an immediate retry."""
    now = now or utcnow()
    idle = list(session.scalars(select(Case.public_id).where(_abandoned(now, idle_since))))
    orphans = [public_id for public_id in idle if public_id not in running]
    if not orphans:
        return 0
    result = session.execute(
        update(Case)
        .where(Case.public_id.in_(orphans), _abandoned(now, idle_since))
        .values(
            status=CaseStatus.PENDING_RETRY,
            next_attempt_at=now,
            updated_at=now,
            last_error="interrupted: the analysis stopped before it ended",
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def requeue_interrupted(session: Session, *, now: dt.datetime | None = None) -> int:
    """At start-up: cases left `submitted` by a stopped bot are parked for an immediate retry.

    Nothing a person sent is lost to a restart. A case another live worker holds is left to it
    (its claim has not run out); the retry job parks it if that worker stopped too. Returns how
    many were parked.
    """
    now = now or utcnow()
    result = session.execute(
        update(Case)
        .where(
            Case.status == CaseStatus.SUBMITTED,
            or_(Case.claimed_until.is_(None), Case.claimed_until <= now),
        )
        .values(
            status=CaseStatus.PENDING_RETRY,
            next_attempt_at=now,
            updated_at=now,
            last_error="interrupted: the bot stopped while sending",
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
