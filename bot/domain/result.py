"""A case's result, built once when it is known and handed to its text, its card and triage."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from bot.domain.advice import Advice
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire


@dataclass(frozen=True, slots=True)
class CaseResult:
    public_id: uuid.UUID
    chat_id: int
    language: str | None
    diagnosis: Diagnosis
    advice: Advice
    # The clinic's queue took the case (in the transaction that completed it): the result says
    # a clinician will look.
    clinic_queued: bool
    questionnaire: Questionnaire
    # The field worker's code for the patient, when the check is for one.
    patient_ref: str | None
    # When the case was submitted (aware, UTC).
    checked_at: datetime.datetime
    # The first photo as the API received it, for the card; None: fetched again when needed.
    card_photo: bytes | None = None
