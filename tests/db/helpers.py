"""Small builders shared by the storage tests."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import cases, consent
from bot.db.cases import PhotoRef
from bot.db.database import Database
from bot.db.models import ConsentDecision
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.terms import Terms

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
    return case.public_id


async def case_with_photos(database: Database, telegram_user_id: int, count: int) -> uuid.UUID:
    return await database.run(_with_photos, telegram_user_id, count)
