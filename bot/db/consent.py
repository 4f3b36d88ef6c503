"""Consent records: who agreed to which terms text, in which language, and when.

The current consent of a person is their latest record. Records are only ever appended.

A consent is to the terms in force when its text's SHA-256 is the one of the text in force in the
record's language. The terms in force are published in `bot_state` at start-up (`publish_terms`),
so every unit of work that records or requires a consent, in any process on the database, checks
against the very texts the bot shows, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import terms
from bot.db import state
from bot.db.base import utcnow
from bot.db.errors import ConsentRequired
from bot.db.models import ConsentDecision, ConsentRecord

TERMS_KEY = "terms_in_force"


def publish_terms(session: Session, shown: terms.Terms) -> None:
    """Make `shown` the terms in force: the texts consents are recorded for and checked against."""
    state.put(session, TERMS_KEY, json.dumps(shown.fingerprints(), sort_keys=True))


def terms_in_force(session: Session) -> dict[str, str]:
    """language -> SHA-256 of the terms text in force (empty before the bot ever started)."""
    published = state.get(session, TERMS_KEY)
    found: dict[str, str] = json.loads(published) if published else {}
    return found


def record_consent(
    session: Session,
    telegram_user_id: int,
    decision: ConsentDecision,
    *,
    language: str | None,
    chat_type: str | None,
    terms_version: str | None = None,
    now: dt.datetime | None = None,
) -> ConsentRecord:
    """Append a decision about the terms text in force in `language`.

    Pass the version that was on screen when the person pressed the button: if the terms changed
    between showing and answering, terms.UnknownTerms is raised rather than attaching the answer
    to a text they never saw.
    """
    shown_language = terms.resolve_language(language)
    sha256 = (terms_in_force(session)).get(shown_language)
    if sha256 is None:
        raise terms.UnknownTerms(f"no terms text in {shown_language!r} is in force")
    version = terms.version_of(sha256)
    if terms_version is not None and terms_version != version:
        raise terms.UnknownTerms(f"terms version {terms_version!r} is not in force ({version})")
    record = ConsentRecord(
        telegram_user_id=telegram_user_id,
        decision=decision,
        terms_version=version,
        text_sha256=sha256,
        language=shown_language,
        chat_type=chat_type,
        recorded_at=now or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def current_consent(session: Session, telegram_user_id: int) -> ConsentRecord | None:
    """The person's latest decision, whatever it was; None if they were never asked."""
    return session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.telegram_user_id == telegram_user_id)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )


def _in_force(record: ConsentRecord, in_force: dict[str, str]) -> bool:
    return in_force.get(record.language) == record.text_sha256


def accepts_terms_in_force(session: Session, record: ConsentRecord | None) -> bool:
    """True when the record accepts the text in force, in the language it was shown in."""
    return (
        record is not None
        and record.decision is ConsentDecision.ACCEPTED
        and _in_force(record, terms_in_force(session))
    )


def consent_status(session: Session, telegram_user_id: int) -> tuple[ConsentRecord | None, bool]:
    """The person's latest decision, and whether it accepts the terms in force."""
    record = current_consent(session, telegram_user_id)
    return record, accepts_terms_in_force(session, record)


def require_current_consent(session: Session, telegram_user_id: int) -> ConsentRecord:
    """The accepted consent to the terms in force, or ConsentRequired saying what is missing."""
    record = current_consent(session, telegram_user_id)
    if record is None:
        raise ConsentRequired(telegram_user_id, "the terms were never accepted")
    if record.decision is not ConsentDecision.ACCEPTED:
        raise ConsentRequired(telegram_user_id, f"the latest decision is {record.decision}")
    in_force = terms_in_force(session)
    if not _in_force(record, in_force):
        now = in_force.get(record.language)
        raise ConsentRequired(
            telegram_user_id,
            f"the terms changed (accepted version {record.terms_version}, "
            f"now {terms.version_of(now) if now else 'none'} in {record.language!r})",
        )
    return record


def withdraw_consent(
    session: Session,
    telegram_user_id: int,
    *,
    chat_type: str | None,
    now: dt.datetime | None = None,
) -> ConsentRecord | None:
    """Append a withdrawal of the person's latest terms; idempotent.

    Returns the withdrawal record (the existing one when already withdrawn), or None when the
    person never made any decision: there is nothing to withdraw and no reason to store them.
    """
    latest = current_consent(session, telegram_user_id)
    if latest is None:
        return None
    if latest.decision is ConsentDecision.WITHDRAWN:
        return latest
    record = ConsentRecord(
        telegram_user_id=telegram_user_id,
        decision=ConsentDecision.WITHDRAWN,
        terms_version=latest.terms_version,
        text_sha256=latest.text_sha256,
        language=latest.language,
        chat_type=chat_type,
        recorded_at=now or utcnow(),
    )
    session.add(record)
    session.flush()
    return record
