"""A case's result, built once when it is known and handed to its text, its card and triage."""

from __future__ import annotations

import datetime as dt
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
    # The answers as stored on the case (some caveats of the result depend on them).
    questionnaire: Questionnaire
    # The field worker's code for the person whose skin it is; None for one's own skin.
    patient_ref: str | None
    # When the person sent the check (bot.db.models.Case.checked_at), aware UTC.
    checked_at: dt.datetime
    # The first photo as the API received it, for the card; None: fetched again when needed.
    card_photo: bytes | None = None
    # The check was of someone else's skin (a field worker's patient): "Next patient" is offered.
    for_someone_else: bool = False
