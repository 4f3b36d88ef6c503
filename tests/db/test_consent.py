"""Consent: the proof of who agreed to which text and when, and that it cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import terms
from bot.db import consent
from bot.db.errors import ConsentRequired
from bot.db.models import AppendOnlyError, BotState, ConsentDecision, ConsentRecord
from bot.db.session import create_sessionmaker
from bot.terms import Terms
from tests.db.helpers import DEFAULT_TERMS, Sessions, accept_terms

USER = 7_000_000_001  # beyond 32 bits, like real Telegram ids


async def test_acceptance_records_the_hash_of_the_text_shown(sessions: Sessions) -> None:
    before = dt.datetime.now(dt.UTC)
    await accept_terms(sessions, USER)
    async with sessions() as session:
        record = await consent.current_consent(session, USER)
    assert record is not None
    assert record.telegram_user_id == USER
    assert record.decision is ConsentDecision.ACCEPTED
    assert record.text_sha256 == DEFAULT_TERMS.sha256("en")
    assert record.text_sha256 == terms.sha256_of(DEFAULT_TERMS.text("en"))
    assert record.terms_version == DEFAULT_TERMS.version("en") == record.text_sha256[:12]
    assert record.language == "en"
    assert record.chat_type == "private"
    assert record.recorded_at.tzinfo is not None
    assert before <= record.recorded_at <= dt.datetime.now(dt.UTC)


async def test_current_consent_is_the_latest_decision(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await consent.current_consent(session, USER) is None
        with pytest.raises(ConsentRequired, match="never accepted"):
            await consent.require_current_consent(session, USER)
    await accept_terms(sessions, USER)
    async with sessions.begin() as session:
        await consent.record_consent(
            session, USER, ConsentDecision.DECLINED, language="en", chat_type="private"
        )
    async with sessions() as session:
        latest = await consent.current_consent(session, USER)
        assert latest is not None and latest.decision is ConsentDecision.DECLINED
        assert not await consent.accepts_terms_in_force(session, latest)
        with pytest.raises(ConsentRequired, match="declined"):
            await consent.require_current_consent(session, USER)
        history = await consent.consent_history(session, USER)
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.DECLINED]


async def test_other_terms_in_force_require_accepting_again(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    # The bot restarted with another retention period: another text, another version.
    shorter = Terms.build(retention_days=30, clinic=False)
    async with sessions.begin() as session:
        await consent.publish_terms(session, shorter)
    async with sessions() as session:
        old = await consent.current_consent(session, USER)
        assert old is not None and old.text_sha256 == DEFAULT_TERMS.sha256("en")
        assert not await consent.accepts_terms_in_force(session, old)
        with pytest.raises(ConsentRequired, match="terms changed"):
            await consent.require_current_consent(session, USER)

    await accept_terms(sessions, USER)
    async with sessions() as session:
        record = await consent.require_current_consent(session, USER)
        history = await consent.consent_history(session, USER)
    assert record.terms_version == shorter.version("en") != DEFAULT_TERMS.version("en")
    assert record.text_sha256 == terms.sha256_of(shorter.text("en"))
    # The older record still names the text it was given to: it is the proof of that.
    assert history[0].text_sha256 == DEFAULT_TERMS.sha256("en")


async def test_only_a_change_of_the_text_agreed_to_asks_again(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await consent.record_consent(
            session, USER, ConsentDecision.ACCEPTED, language="ko", chat_type="private"
        )
    # Only the English text changes (a new edition of the terms as a whole would change all).
    changed = Terms({**DEFAULT_TERMS.texts, "en": DEFAULT_TERMS.text("en") + "\nA new point.\n"})
    async with sessions.begin() as session:
        await consent.publish_terms(session, changed)
    async with sessions() as session:
        record = await consent.require_current_consent(session, USER)
    assert record.language == "ko"


async def test_an_answer_to_a_text_no_longer_in_force_is_not_recorded(sessions: Sessions) -> None:
    # The person saw the text of the last start; the bot restarted with other terms before they
    # pressed the button.
    seen = DEFAULT_TERMS.version("en")
    async with sessions.begin() as session:
        await consent.publish_terms(session, Terms.build(retention_days=7, clinic=True))
    async with sessions.begin() as session:
        with pytest.raises(terms.UnknownTerms):
            await consent.record_consent(
                session,
                USER,
                ConsentDecision.ACCEPTED,
                language="en",
                chat_type="private",
                terms_version=seen,
            )
        # A version written by hand before versions were derived is not in force either.
        with pytest.raises(terms.UnknownTerms):
            await consent.record_consent(
                session,
                USER,
                ConsentDecision.ACCEPTED,
                language="en",
                chat_type="private",
                terms_version="1",
            )
    async with sessions() as session:
        assert await consent.current_consent(session, USER) is None


async def test_no_consent_is_recorded_before_any_terms_are_in_force(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(delete(BotState))
    async with create_sessionmaker(engine).begin() as session:
        with pytest.raises(terms.UnknownTerms):
            await consent.record_consent(
                session, USER, ConsentDecision.ACCEPTED, language="en", chat_type="private"
            )


async def test_withdraw_appends_once(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        assert await consent.withdraw_consent(session, USER, chat_type="private") is None
    await accept_terms(sessions, USER)
    async with sessions.begin() as session:
        first = await consent.withdraw_consent(session, USER, chat_type="private")
    async with sessions.begin() as session:
        again = await consent.withdraw_consent(session, USER, chat_type="private")
        history = await consent.consent_history(session, USER)
    assert first is not None and again is not None and again.id == first.id
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.WITHDRAWN]
    assert history[1].text_sha256 == history[0].text_sha256
    async with sessions() as session:
        with pytest.raises(ConsentRequired, match="withdrawn"):
            await consent.require_current_consent(session, USER)


async def test_consent_records_cannot_be_changed_or_deleted(sessions: Sessions) -> None:
    await accept_terms(sessions, USER)
    async with sessions() as session:
        record = await session.scalar(select(ConsentRecord))
        assert record is not None
        record.decision = ConsentDecision.DECLINED
        with pytest.raises(AppendOnlyError):
            await session.flush()
    async with sessions() as session:
        record = await session.scalar(select(ConsentRecord))
        assert record is not None
        await session.delete(record)
        with pytest.raises(AppendOnlyError):
            await session.flush()
    async with sessions() as session:
        with pytest.raises(AppendOnlyError):
            await session.execute(update(ConsentRecord).values(terms_version="x"))
        with pytest.raises(AppendOnlyError):
            await session.execute(delete(ConsentRecord))
    async with sessions() as session:
        records = list(await session.scalars(select(ConsentRecord)))
    assert len(records) == 1
    assert records[0].decision is ConsentDecision.ACCEPTED
    assert records[0].terms_version == DEFAULT_TERMS.version("en")
