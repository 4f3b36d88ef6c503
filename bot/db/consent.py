"""Consent records: who agreed to which terms text, in which language, and when.

The current consent of a person is their latest record. Records are only ever appended.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import terms
from bot.db.base import utcnow
from bot.db.errors import ConsentRequired
from bot.db.models import ConsentDecision, ConsentRecord


def _text_hash(version: str, language: str) -> str:
    # The current texts are hashed as they are now, so the record names exactly what was shown;
    # older versions only exist as their registered hashes.
    return terms.version_sha256(version, language)


async def record_consent(
    session: AsyncSession,
    telegram_user_id: int,
    decision: ConsentDecision,
    *,
    language: str | None,
    chat_type: str | None,
    terms_version: str | None = None,
    now: dt.datetime | None = None,
) -> ConsentRecord:
    """Append a decision about the terms text shown (the current version unless named).

    Pass the version that was on screen when the person pressed the button, so an upgrade
    between showing and answering cannot attach their answer to a text they never saw.
    Raises `terms.UnknownTerms` for a version or language that was never shown.
    """
    version = terms.current_version() if terms_version is None else terms_version
    shown_language = terms.resolve_language(language)
    record = ConsentRecord(
        telegram_user_id=telegram_user_id,
        decision=decision,
        terms_version=version,
        text_sha256=_text_hash(version, shown_language),
        language=shown_language,
        chat_type=chat_type,
        recorded_at=now or utcnow(),
    )
    session.add(record)
    await session.flush()
    return record


async def current_consent(session: AsyncSession, telegram_user_id: int) -> ConsentRecord | None:
    """The person's latest decision, whatever it was; None if they were never asked."""
    return await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.telegram_user_id == telegram_user_id)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )


async def consent_history(session: AsyncSession, telegram_user_id: int) -> list[ConsentRecord]:
    """Every decision of the person, oldest first."""
    result = await session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.telegram_user_id == telegram_user_id)
        .order_by(ConsentRecord.id)
    )
    return list(result)


def is_current_acceptance(record: ConsentRecord | None) -> bool:
    """True when the record accepts the terms as they are now (same version)."""
    return (
        record is not None
        and record.decision is ConsentDecision.ACCEPTED
        and record.terms_version == terms.current_version()
    )


async def require_current_consent(session: AsyncSession, telegram_user_id: int) -> ConsentRecord:
    """The accepted consent to the current terms, or ConsentRequired saying what is missing."""
    record = await current_consent(session, telegram_user_id)
    if record is None:
        raise ConsentRequired(telegram_user_id, "the terms were never accepted")
    if record.decision is not ConsentDecision.ACCEPTED:
        raise ConsentRequired(telegram_user_id, f"the latest decision is {record.decision}")
    if record.terms_version != terms.current_version():
        raise ConsentRequired(
            telegram_user_id,
            f"the terms changed (accepted version {record.terms_version}, "
            f"now {terms.current_version()})",
        )
    return record


async def withdraw_consent(
    session: AsyncSession,
    telegram_user_id: int,
    *,
    chat_type: str | None,
    now: dt.datetime | None = None,
) -> ConsentRecord | None:
    """Append a withdrawal of the person's latest terms; idempotent.

    Returns the withdrawal record (the existing one when already withdrawn), or None when the
    person never made any decision: there is nothing to withdraw and no reason to store them.
    """
    latest = await current_consent(session, telegram_user_id)
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
    await session.flush()
    return record
