"""The stored records: User, ConsentRecord (append-only), Case and its CasePhoto references."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column, relationship

from bot.db.base import Base, utcnow
from bot.domain.advice import AdviceTier
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.modelderm.errors import MAX_PHOTOS as API_MAX_PHOTOS

__all__ = [
    "ERROR_TEXT_MAX",
    "MAX_PHOTOS",
    "PATIENT_REF_MAX",
    "PENDING_STATUSES",
    "WORKER_ID_MAX",
    "AppendOnlyError",
    "Base",
    "BotState",
    "Case",
    "CasePhoto",
    "CaseStatus",
    "ClinicCopy",
    "ClinicCopyReason",
    "ConsentDecision",
    "ConsentRecord",
    "DeliveryFailure",
    "FairUseMark",
    "Lease",
    "PhotoState",
    "Reminder",
    "Subject",
    "TriageDecision",
    "TriageDecisionKind",
    "TriageDirection",
    "TriageMessage",
    "TriagePost",
    "User",
    "case_finished_at",
]

# A case holds as many photos as the API takes in one request.
MAX_PHOTOS = API_MAX_PHOTOS
# A reference the person types for someone else's skin (e.g. a clinic's record number): short
# enough for the clinic's card and the summary to show whole on a phone.
PATIENT_REF_MAX = 24
# The longest error text kept on a case or a clinic's post, for operators.
ERROR_TEXT_MAX = 2000
# The longest name of a worker holding a claim (bot/db/claims.py: worker_id).
WORKER_ID_MAX = 64


def _enum(kind: type[StrEnum], name: str) -> Enum:
    # Stored as the values (plain words), in a VARCHAR with a CHECK: portable and readable.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class ConsentDecision(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class CaseStatus(StrEnum):
    COLLECTING = "collecting"
    SUBMITTED = "submitted"
    PENDING_RETRY = "pending_retry"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Cases sent and waiting for the API's answer (a retry included), as /stats and /healthz count
# them.
PENDING_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.PENDING_RETRY)


class DeliveryFailure(StrEnum):
    """Why the bot stopped trying to bring a result to the person's chat."""

    BLOCKED = "blocked"
    CHAT_GONE = "chat gone"
    TOO_LONG = "too long after trimming"
    # A new message may have gone out just before a crash, and there is no message to edit
    # instead: sending another could show the result twice.
    MAYBE_SENT = "may have been sent before a restart"
    TOO_MANY_TRIES = "too many tries"


class PhotoState(StrEnum):
    """Where a photo stands: stored on arrival, before anyone has looked at it, then accepted
    by its acknowledgement (a photo found unusable leaves the case in that same transaction)."""

    UNCHECKED = "unchecked"
    ACCEPTED = "accepted"


class Subject(StrEnum):
    """Whose skin the photos show."""

    OWN = "own"
    OTHER_WITH_PERMISSION = "other_with_permission"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(unique=True)
    language: Mapped[str | None] = mapped_column(String(16))
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)

    cases: Mapped[list[Case]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )


class ConsentRecord(Base):
    """One decision about one terms text. Append-only: the proof of who agreed to what, when.

    The Telegram user id is stored directly, not as a key to `users`, so the proof still names
    the person after their profile and cases are erased.
    """

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_person_latest", "telegram_user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int]
    decision: Mapped[ConsentDecision] = mapped_column(_enum(ConsentDecision, "consent_decision"))
    terms_version: Mapped[str] = mapped_column(String(32))
    # SHA-256 (hex) of the exact text shown, in the language shown.
    text_sha256: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    # Telegram's chat type (private, group, ...) or `operator` for a request handled by hand.
    chat_type: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Case(Base):
    """One skin problem: photos, answers, and what the API concluded."""

    __tablename__ = "cases"
    __table_args__ = (
        # At most one case being collected per person: a second would silently split photos.
        Index(
            "uq_cases_one_collecting_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'collecting'"),
            postgresql_where=text("status = 'collecting'"),
        ),
        Index("ix_cases_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_cases_status_next_delivery_at", "status", "next_delivery_at"),
        # Abandoned collecting cases (retention), submitted ones left idle (park_orphans).
        Index("ix_cases_status_updated_at", "status", "updated_at"),
        # A person's checks in order, all of them or those of one patient code (/history).
        Index("ix_cases_user_id_id", "user_id", "id"),
        Index("ix_cases_user_id_patient_ref", "user_id", "patient_ref", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[CaseStatus] = mapped_column(
        _enum(CaseStatus, "case_status"), default=CaseStatus.COLLECTING
    )
    subject: Mapped[Subject] = mapped_column(_enum(Subject, "case_subject"), default=Subject.OWN)
    # A short label the sender chose for someone else's skin; never sent to the API, nor in the
    # operator's export (the sender's own /export has it).
    patient_ref: Mapped[str | None] = mapped_column(String(PATIENT_REF_MAX))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    diagnosis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    server: Mapped[str | None] = mapped_column(String(255))
    latency_s: Mapped[float | None] = mapped_column(Float)
    # Submissions so far (each may hold several HTTP tries, counted in the diagnosis).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The consent this case was sent under: the proof link from a photo to an agreement.
    consent_record_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    # Where the conversation of a collecting case stands (bot/domain/steps.py), so that it
    # continues after a restart; `editing` sends it back to the summary after one answer.
    step: Mapped[str] = mapped_column(String(24), default="subject", server_default="subject")
    editing: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The message that shows the case's current screen, edited in place as the person presses
    # its buttons (bot/conversation/display.py); kept here so that an edit after a restart
    # finds it. `screen_settle` says what becomes of it once a newer screen is sent below:
    # "strip" (its buttons removed), "delete" (a photo acknowledgement) or "" (nothing to do).
    screen_message_id: Mapped[int | None]
    screen_settle: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # The earlier check this one follows up (a reminder's "Check it again"). Purging the
    # earlier case clears the link; the follow-up itself stays for its own retention period.
    follow_up_of: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )

    # Indexed for /stats, which counts the cases of the day by each of these moments.
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    cancelled_at: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    # When the result reached the person: a completed case without it is delivered again.
    delivered_at: Mapped[dt.datetime | None]

    # When the person last pressed Send (or Try again); a submission later than this is a retry.
    requested_at: Mapped[dt.datetime | None]
    # The "Analysing…" message, which the result replaces (bot/services/delivery.py).
    status_message_id: Mapped[int | None]
    # HTTP uploads of the photos claimed since the latest submission, each under the consent
    # current at that moment (cases.claim_upload).
    uploads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_upload_at: Mapped[dt.datetime | None]
    # Submissions in a row whose every answer was unreadable: a protocol error, not an outage.
    unreadable_answers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Delivering the result (bot/db/delivery.py): tries so far, when the next one is due, and
    # the moments a new result message and the card were attempted, recorded before each send.
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_delivery_at: Mapped[dt.datetime | None]
    result_message_at: Mapped[dt.datetime | None]
    card_attempted_at: Mapped[dt.datetime | None]
    delivery_given_up_at: Mapped[dt.datetime | None]
    delivery_failure: Mapped[str | None] = mapped_column(String(48))
    # The worker analysing or delivering it now (bot/db/claims.py), and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX))
    claimed_until: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="cases", lazy="joined", innerjoin=True)
    photos: Mapped[list[CasePhoto]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CasePhoto.position",
        lazy="selectin",
    )
    consent: Mapped[ConsentRecord | None] = relationship(lazy="raise")

    @property
    def telegram_user_id(self) -> int:
        return self.user.telegram_user_id

    @property
    def accepted_photos(self) -> list[CasePhoto]:
        """The photos that count: checked and acknowledged, the ones that are sent."""
        return [photo for photo in self.photos if photo.accepted]

    @property
    def questionnaire(self) -> Questionnaire:
        return Questionnaire.from_dict(self.answers or {})

    @property
    def result(self) -> Diagnosis | None:
        return None if self.diagnosis is None else Diagnosis.from_dict(self.diagnosis)

    @property
    def checked_at(self) -> dt.datetime:
        """When the person sent the check (their latest Send or Try again), as its result dates
        it: a retry by the bot later does not change the day the person sent it."""
        return self.requested_at or self.submitted_at or self.created_at


# When a case ended (completed, failed or cancelled, the earliest recorded first): retention
# counts its period from here. Queries must use this very expression for its index to serve them.
case_finished_at = func.coalesce(Case.completed_at, Case.failed_at, Case.cancelled_at)
Index("ix_cases_finished_at", case_finished_at)


class CasePhoto(Base):
    """A photo as Telegram's reference to it; the bytes stay on Telegram until submission."""

    __tablename__ = "case_photos"
    __table_args__ = (
        UniqueConstraint("case_id", "position"),
        UniqueConstraint("case_id", "file_unique_id"),
        CheckConstraint(f"position BETWEEN 1 AND {MAX_PHOTOS}", name="position_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int | None]
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Committed as unchecked as soon as the photo arrives, so that nothing a person sent lives
    # only in memory; photos stored before this column existed had all been checked.
    state: Mapped[str] = mapped_column(
        String(16), default=PhotoState.UNCHECKED.value, server_default=PhotoState.ACCEPTED.value
    )

    case: Mapped[Case] = relationship(back_populates="photos", lazy="raise")

    @property
    def accepted(self) -> bool:
        return self.state == PhotoState.ACCEPTED


class TriageDecisionKind(StrEnum):
    """What a clinician decided for a case (bot/services/triage_desk.py): a tier of the advice's
    one urgency scale (the same values as AdviceTier, most urgent first), or better photos
    before deciding. Migration 0011 says where the decisions of the older three-level scale went.
    """

    URGENT_CARE = "urgent_care"
    WITHIN_DAYS = "within_days"
    WITHIN_2_WEEKS = "within_2_weeks"
    IF_NO_IMPROVEMENT = "if_no_improvement"
    SELF_CARE = "self_care"
    BETTER_PHOTOS = "better_photos"

    @property
    def tier(self) -> AdviceTier | None:
        """The decision on the advice's scale; None for "Need better photos"."""
        return None if self is TriageDecisionKind.BETTER_PHOTOS else AdviceTier(self.value)


class TriageDirection(StrEnum):
    TO_PERSON = "to_person"
    FROM_PERSON = "from_person"


class TriagePost(Base):
    """A case in the clinic's queue: where its album and card are, and its latest decision.

    One row per case. "Need better photos" starts a new `round`: the case is collected and
    analysed again and posted as a new card; `decisions_in_round` makes a press on an older
    view of a card (or a second clinician's simultaneous press) a refused, stale one.
    """

    __tablename__ = "triage_posts"
    __table_args__ = (
        Index("ix_triage_posts_decision_queued_at", "decision", "queued_at"),
        # Cases whose card is not in the group yet, the longest queued first.
        Index("ix_triage_posts_posted_at_queued_at", "posted_at", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True, index=True
    )
    round: Mapped[int] = mapped_column(Integer, default=1)
    # The bot's advice tier for this round's result (bot/domain/advice.py), to audit agreement.
    advice_tier: Mapped[str] = mapped_column(String(32))
    # When the person pressed "Send", and when the result was ready for the clinic.
    waiting_since: Mapped[dt.datetime]
    queued_at: Mapped[dt.datetime]
    # Posting: the album's message ids are kept as soon as it is sent, so a retry after a
    # failure (or restart) sends only what is missing: the case is posted once.
    album_message_ids: Mapped[list[int] | None] = mapped_column(JSON)
    card_message_id: Mapped[int | None]
    # The albums and cards of earlier rounds, still in the group: erasing the case deletes them.
    earlier_album_ids: Mapped[list[int] | None] = mapped_column(JSON)
    earlier_card_ids: Mapped[list[int] | None] = mapped_column(JSON)
    posted_at: Mapped[dt.datetime | None]
    # This round will never be posted: the person's consent ended (or the photos may not leave,
    # bot/domain/safeguards.py) before its card went; `last_error` says why.
    refused_at: Mapped[dt.datetime | None]
    post_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[TriageDecisionKind | None] = mapped_column(
        _enum(TriageDecisionKind, "triage_decision")
    )
    decided_at: Mapped[dt.datetime | None]
    decisions_in_round: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[dt.datetime | None]
    # The worker posting it (or its reminder) now (bot/db/claims.py), and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX))
    claimed_until: Mapped[dt.datetime | None]

    case: Mapped[Case] = relationship(lazy="joined", innerjoin=True)


class TriageDecision(Base):
    """One clinician's decision, as made (append-only in practice; the audit trail).

    Erasing the person unlinks it (`case_id` NULL) instead of deleting it: what remains names
    no one, and keeps the clinic's numbers (time to decision, agreement with the AI) true.
    """

    __tablename__ = "triage_decisions"
    __table_args__ = (
        # Decisions the person was never told (a crash or outage), redelivered by the job.
        Index("ix_triage_decisions_delivered_at_decided_at", "delivered_at", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    decision: Mapped[TriageDecisionKind] = mapped_column(
        _enum(TriageDecisionKind, "triage_decision")
    )
    advice_tier: Mapped[str] = mapped_column(String(32))
    # True when it replaced an earlier decision of the same round ("Change decision").
    changed: Mapped[bool] = mapped_column(default=False)
    clinician_telegram_id: Mapped[int]
    clinician_name: Mapped[str] = mapped_column(String(128))
    # Indexed for the triage report of a period.
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # Seconds from the case entering the queue to this decision.
    waited_s: Mapped[float] = mapped_column(Float)
    # When the person was told; a decision without it is delivered again.
    delivered_at: Mapped[dt.datetime | None]


class TriageMessage(Base):
    """A message relayed between a clinician and the person (personal data: erased with them)."""

    __tablename__ = "triage_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    direction: Mapped[TriageDirection] = mapped_column(_enum(TriageDirection, "triage_direction"))
    clinician_telegram_id: Mapped[int | None]
    clinician_name: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    # The message in the clinic's group (the clinician's, or the bot's relay of the answer) and
    # in the person's chat (the bot's relay, or the person's answer): replies are matched on them.
    group_message_id: Mapped[int | None]
    person_message_id: Mapped[int | None]
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FairUseMark(Base):
    """One check sent, counted for the fair-use limits (bot/db/fair_use.py).

    Not linked to the person's data, so /delete leaves it: only a keyed hash of the sender's
    Telegram id and the time, deleted after 24 hours.
    """

    __tablename__ = "fair_use_marks"
    __table_args__ = (Index("ix_fair_use_marks_person_submitted", "person_hash", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC-SHA256 (hex) of the Telegram user id, keyed with the bot's own secret (bot_state).
    person_hash: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(index=True)


class Reminder(Base):
    """A follow-up reminder the person asked for under a result (bot/db/reminders.py).

    One per case: asking again keeps it, cancelling and asking again sets it anew. Sending is
    claimed in a short transaction (`claimed_by`, `claimed_until`) and recorded as sent in
    another, so two processes never both send it and a crash between the two lets it go once
    the claim expires. Personal data of the case: deleted with it.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True, index=True
    )
    chat_id: Mapped[int]
    # When it is due: the moment asked for, moved into the daytime hours (REMINDER_HOURS).
    due_at: Mapped[dt.datetime]
    # The days after the result the person chose (FOLLOW_UP_AFTER_DAYS), for the button.
    after_days: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    # A worker holds the row until `claimed_until` while it sends it (one at a time).
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX))
    claimed_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BotState(Base):
    """The bot's own small facts kept between starts (bot/db/state.py), e.g. its secret keys."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClinicCopyReason(StrEnum):
    """Why a case's messages must leave the clinic's group."""

    ERASED = "erased"  # /delete, or the operator's `erase`
    EXPIRED = "expired"  # the retention period ended (`purge`, or the bot's daily purge)
    WITHDRAWN = "withdrawn"  # consent ended between the album and the card: a half post


class ClinicCopy(Base):
    """A case's messages in the clinic's group that must be deleted, kept until they are.

    Written in the transaction that erases or purges the case (its post and relayed messages,
    the only record of these message ids, go in the same transaction), so a crash loses none of
    them. Where Telegram refuses (older than 48 hours, or another member's message without the
    admin right), the clinic is asked to delete them and the person is told; then the row goes.
    The person's chat id is kept here only until that note is sent.
    """

    __tablename__ = "clinic_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case's id, which its short form names in the messages; the case itself is gone.
    case_public_id: Mapped[uuid.UUID]
    reason: Mapped[ClinicCopyReason] = mapped_column(_enum(ClinicCopyReason, "clinic_copy_reason"))
    chat_id: Mapped[int]
    # Still to delete; the cards among them (or among the refused), which are scrubbed if they
    # stay; and the ones Telegram refused to delete.
    message_ids: Mapped[list[int]] = mapped_column(JSON)
    card_ids: Mapped[list[int]] = mapped_column(JSON)
    refused_ids: Mapped[list[int]] = mapped_column(JSON)
    # Whom to tell, in which language, when a copy stays (None: nobody to tell).
    notify_chat_id: Mapped[int | None]
    language: Mapped[str | None] = mapped_column(String(16))
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker (the bot, or the `purge` command) holds the row until then: one at a time.
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX))
    claimed_until: Mapped[dt.datetime | None]
    # When the clinic was asked to delete what stays (recorded before the person is told).
    requested_at: Mapped[dt.datetime | None]


class Lease(Base):
    """A named thing one worker holds at a time, for a while (bot/db/claims.py): the leadership
    of the bot's processes (bot/db/leadership.py) and the jobs that must not run twice at once
    (the retention purge)."""

    __tablename__ = "leases"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX))
    claimed_until: Mapped[dt.datetime | None]


class AppendOnlyError(RuntimeError):
    """Something tried to change or delete a consent record, which is the legal proof."""


def _refuse_change(mapper: Mapper[Any], connection: Connection, target: ConsentRecord) -> None:
    raise AppendOnlyError(f"consent record {target.id} is append-only")


event.listen(ConsentRecord, "before_update", _refuse_change)
event.listen(ConsentRecord, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    # Bulk UPDATE/DELETE statements bypass the per-object events above.
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is ConsentRecord for mapper in state.all_mappers
    ):
        raise AppendOnlyError("consent records are append-only")
