"""Small builders shared by the storage tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import cases, consent, migrate
from bot.db.base import Base, utcnow
from bot.db.cases import PhotoRef
from bot.db.claims import Claim
from bot.db.database import Database
from bot.db.models import (
    Case,
    CaseStatus,
    ConsentDecision,
    ConsentRecord,
    Subject,
    User,
)
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.terms import Terms

# A worker claiming work (bot/db/claims.py), as one bot process does.
WORKER = Claim("worker-1", dt.timedelta(seconds=30))

# The terms a bot with the default settings shows, as it publishes them at start-up.
DEFAULT_TERMS = Terms.from_settings(Settings(_env_file=None))


def photo(n: int, case_tag: str = "") -> PhotoRef:
    return PhotoRef(
        file_id=f"AgACAgIAAxkBAAI{case_tag}file{n:03d}",
        file_unique_id=f"AQAD{case_tag}uniq{n:03d}",
        file_size=100_000 + n,
        width=1280,
        height=960,
    )


QUESTIONNAIRE = Questionnaire(
    birth_year=1978,
    sex=Sex.FEMALE,
    skin_type=3,
    body_site="left forearm",
    itch=Severity.MILD_TO_MODERATE,
    pain=Severity.NONE,
    onset=Onset.UNDER_A_MONTH,
)

DIAGNOSIS = Diagnosis(
    conditions=(
        Condition("Insect bite", 0.2728),
        Condition("Melanocytic nevus", 0.2456),
        Condition("Xerotic eczema", 0.0761),
    ),
    malignancy_output=4,
    meta_used=True,
    photos_analysed=2,
    echoed_metadata={"race": "3", "sex": "2", "age": "47", "loc": "left forearm"},
    server="http://127.0.0.1:8123/api",
    latency_s=2.5,
    attempts=2,
)


def _accept(session: Session, telegram_user_id: int) -> None:
    if not consent.terms_in_force(session):  # a database no bot has started on yet
        consent.publish_terms(session, DEFAULT_TERMS)
    consent.record_consent(
        session,
        telegram_user_id,
        ConsentDecision.ACCEPTED,
        language="en",
        chat_type="private",
    )


async def accept_terms(database: Database, telegram_user_id: int) -> None:
    await database.run(_accept, telegram_user_id)


def _with_photos(session: Session, telegram_user_id: int, count: int) -> uuid.UUID:
    case = cases.create_case(session, telegram_user_id, language="en")
    for n in range(1, count + 1):
        cases.add_photo(session, case.public_id, photo(n, str(telegram_user_id)))
    # As their acknowledgement leaves them.
    cases.settle_photos(session, case.public_id, accepted=list(range(1, count + 1)), rejected=[])
    return case.public_id


async def case_with_photos(database: Database, telegram_user_id: int, count: int) -> uuid.UUID:
    return await database.run(_with_photos, telegram_user_id, count)


# Units of work only the tests use, to set up and read back what they check.


def set_answers(
    session: Session,
    public_id: uuid.UUID,
    questionnaire: Questionnaire,
    *,
    now: dt.datetime | None = None,
) -> Case:
    case = cases.lock_case(session, public_id, now or utcnow())
    cases._require(case, "change the answers of", CaseStatus.COLLECTING)
    case.answers = questionnaire.to_dict()
    session.flush()
    return case


def set_subject(
    session: Session,
    public_id: uuid.UUID,
    subject: Subject,
    patient_ref: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> Case:
    """Whose skin it is; a reference is kept only for someone else's skin."""
    case = cases.lock_case(session, public_id, now or utcnow())
    cases._require(case, "change whose skin is in", CaseStatus.COLLECTING)
    case.subject = subject
    case.patient_ref = (
        cases._clean_ref(patient_ref) if subject is Subject.OTHER_WITH_PERMISSION else None
    )
    session.flush()
    return case


def consent_history(session: Session, telegram_user_id: int) -> list[ConsentRecord]:
    """Every decision of the person, oldest first."""
    result = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.telegram_user_id == telegram_user_id)
        .order_by(ConsentRecord.id)
    )
    return list(result)


def get_user(session: Session, telegram_user_id: int) -> User | None:
    return session.scalar(select(User).where(User.telegram_user_id == telegram_user_id))


def schema_differences(url: str) -> list[Any]:
    """Differences between the models and the database's actual schema (empty when in step)."""

    def compare(connection: Connection) -> list[Any]:
        include = migrate.compared_on(connection.dialect.name)
        opts = {"compare_type": True, "include_object": include}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, Base.metadata))

    return migrate.with_connection(url, compare)


def add_checked_photo(
    session: Session,
    public_id: uuid.UUID,
    ref: PhotoRef,
    *,
    now: dt.datetime | None = None,
) -> cases.PhotoAdded:
    """A photo added and acknowledged as usable, as the photo intake leaves it."""
    added = cases.add_photo(session, public_id, ref, now=now)
    position = added.photo.position
    cases.settle_photos(session, public_id, accepted=[position], rejected=[], now=now)
    return added
