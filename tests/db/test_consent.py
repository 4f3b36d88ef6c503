"""Consent: the proof of who agreed to which text and when, and that it cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from bot import terms
from bot.db import consent
from bot.db.errors import ConsentRequired
from bot.db.models import AppendOnlyError, ConsentDecision, ConsentRecord
from tests.db.helpers import Sessions, accept_terms

USER = 7_000_000_001  # beyond 32 bits, like real Telegram ids


async def test_acceptance_records_the_hash_of_the_text_shown(sessions: Sessions) -> None:
    before = dt.datetime.now(dt.UTC)
    await accept_terms(sessions, USER)
    async with sessions() as session:
        record = await consent.current_consent(session, USER)
    assert record is not None
    assert record.telegram_user_id == USER
    assert record.decision is ConsentDecision.ACCEPTED
    assert record.terms_version == terms.TERMS_VERSION
    assert record.text_sha256 == terms.terms_sha256("en") == terms.sha256_of(terms.terms_text())
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
        assert not consent.is_current_acceptance(latest)
        with pytest.raises(ConsentRequired, match="declined"):
            await consent.require_current_consent(session, USER)
        history = await consent.consent_history(session, USER)
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.DECLINED]


async def test_new_terms_version_requires_accepting_again(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accept_terms(sessions, USER)
    old_hash = terms.terms_sha256("en")

    new_text = terms.terms_text("en") + "\n5. A new point.\n"
    monkeypatch.setattr(terms, "_TEXTS", {"en": new_text})
    monkeypatch.setattr(terms, "TERMS_VERSION", "2")
    monkeypatch.setitem(terms.REGISTERED_SHA256, ("2", "en"), terms.sha256_of(new_text))

    async with sessions() as session:
        old = await consent.current_consent(session, USER)
        assert old is not None and old.text_sha256 == old_hash
        assert not consent.is_current_acceptance(old)
        with pytest.raises(ConsentRequired, match="terms changed"):
            await consent.require_current_consent(session, USER)

    await accept_terms(sessions, USER)
    async with sessions() as session:
        record = await consent.require_current_consent(session, USER)
    assert record.terms_version == "2"
    assert record.text_sha256 == terms.sha256_of(new_text) != old_hash


async def test_answer_to_an_older_text_keeps_that_texts_hash(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The person saw version 1, the bot was upgraded to version 2 before they pressed the button.
    v1_hash = terms.terms_sha256("en")
    monkeypatch.setattr(terms, "_TEXTS", {"en": "version two"})
    monkeypatch.setattr(terms, "TERMS_VERSION", "2")
    async with sessions.begin() as session:
        record = await consent.record_consent(
            session,
            USER,
            ConsentDecision.ACCEPTED,
            language="en",
            chat_type="private",
            terms_version="1",
        )
        assert record.text_sha256 == v1_hash
        with pytest.raises(ConsentRequired):
            await consent.require_current_consent(session, USER)
        with pytest.raises(terms.UnknownTerms):
            await consent.record_consent(
                session,
                USER,
                ConsentDecision.ACCEPTED,
                language="en",
                chat_type="private",
                terms_version="0.1",
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
    assert records[0].terms_version == terms.TERMS_VERSION
