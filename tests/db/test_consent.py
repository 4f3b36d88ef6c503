"""Consent: the proof of who agreed to which text and when, and that it cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot import terms
from bot.db import consent
from bot.db.database import Database
from bot.db.errors import ConsentRequired
from bot.db.models import AppendOnlyError, BotState, ConsentDecision, ConsentRecord
from bot.terms import Terms
from tests.db.helpers import DEFAULT_TERMS, accept_terms, consent_history

USER = 7_000_000_001  # beyond 32 bits, like real Telegram ids


async def test_acceptance_records_the_hash_of_the_text_shown(database: Database) -> None:
    before = dt.datetime.now(dt.UTC)
    await accept_terms(database, USER)
    record = await database.run(consent.current_consent, USER)
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


async def test_current_consent_is_the_latest_decision(database: Database) -> None:
    assert await database.run(consent.current_consent, USER) is None
    with pytest.raises(ConsentRequired, match="never accepted"):
        await database.run(consent.require_current_consent, USER)
    await accept_terms(database, USER)
    await database.run(
        consent.record_consent, USER, ConsentDecision.DECLINED, language="en", chat_type="private"
    )
    latest = await database.run(consent.current_consent, USER)
    assert latest is not None and latest.decision is ConsentDecision.DECLINED
    assert not await database.run(consent.accepts_terms_in_force, latest)
    with pytest.raises(ConsentRequired, match="declined"):
        await database.run(consent.require_current_consent, USER)
    history = await database.run(consent_history, USER)
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.DECLINED]


async def test_other_terms_in_force_require_accepting_again(database: Database) -> None:
    await accept_terms(database, USER)
    # The bot restarted with another retention period: another text, another version.
    shorter = Terms.build(retention_days=30, clinic=False)
    await database.run(consent.publish_terms, shorter)
    old = await database.run(consent.current_consent, USER)
    assert old is not None and old.text_sha256 == DEFAULT_TERMS.sha256("en")
    assert not await database.run(consent.accepts_terms_in_force, old)
    with pytest.raises(ConsentRequired, match="terms changed"):
        await database.run(consent.require_current_consent, USER)

    await accept_terms(database, USER)
    record = await database.run(consent.require_current_consent, USER)
    history = await database.run(consent_history, USER)
    assert record.terms_version == shorter.version("en") != DEFAULT_TERMS.version("en")
    assert record.text_sha256 == terms.sha256_of(shorter.text("en"))
    # The older record still names the text it was given to: it is the proof of that.
    assert history[0].text_sha256 == DEFAULT_TERMS.sha256("en")


async def test_only_a_change_of_the_text_agreed_to_asks_again(database: Database) -> None:
    await database.run(
        consent.record_consent, USER, ConsentDecision.ACCEPTED, language="ko", chat_type="private"
    )
    # Only the English text changes (a new edition of the terms as a whole would change all).
    changed = Terms({**DEFAULT_TERMS.texts, "en": DEFAULT_TERMS.text("en") + "\nA new point.\n"})
    await database.run(consent.publish_terms, changed)
    record = await database.run(consent.require_current_consent, USER)
    assert record.language == "ko"


async def test_an_answer_to_a_text_no_longer_in_force_is_not_recorded(database: Database) -> None:
    # The person saw the text of the last start; the bot restarted with other terms before they
    # pressed the button.
    seen = DEFAULT_TERMS.version("en")
    await database.run(consent.publish_terms, Terms.build(retention_days=7, clinic=True))
    with pytest.raises(terms.UnknownTerms):
        await database.run(
            consent.record_consent,
            USER,
            ConsentDecision.ACCEPTED,
            language="en",
            chat_type="private",
            terms_version=seen,
        )
    # A version written by hand before versions were derived is not in force either.
    with pytest.raises(terms.UnknownTerms):
        await database.run(
            consent.record_consent,
            USER,
            ConsentDecision.ACCEPTED,
            language="en",
            chat_type="private",
            terms_version="1",
        )
    assert await database.run(consent.current_consent, USER) is None


async def test_no_consent_is_recorded_before_any_terms_are_in_force(database: Database) -> None:
    await database.run(lambda session: session.execute(delete(BotState)))
    with pytest.raises(terms.UnknownTerms):
        await database.run(
            consent.record_consent,
            USER,
            ConsentDecision.ACCEPTED,
            language="en",
            chat_type="private",
        )


async def test_withdraw_appends_once(database: Database) -> None:
    assert await database.run(consent.withdraw_consent, USER, chat_type="private") is None
    await accept_terms(database, USER)
    first = await database.run(consent.withdraw_consent, USER, chat_type="private")
    again = await database.run(consent.withdraw_consent, USER, chat_type="private")
    history = await database.run(consent_history, USER)
    assert first is not None and again is not None and again.id == first.id
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.WITHDRAWN]
    assert history[1].text_sha256 == history[0].text_sha256
    with pytest.raises(ConsentRequired, match="withdrawn"):
        await database.run(consent.require_current_consent, USER)


async def test_consent_records_cannot_be_changed_or_deleted(database: Database) -> None:
    await accept_terms(database, USER)

    def change(session: Session) -> None:
        record = session.scalar(select(ConsentRecord))
        assert record is not None
        record.decision = ConsentDecision.DECLINED

    def remove(session: Session) -> None:
        record = session.scalar(select(ConsentRecord))
        assert record is not None
        session.delete(record)

    for refused in (
        change,
        remove,
        lambda session: session.execute(update(ConsentRecord).values(terms_version="x")),
        lambda session: session.execute(delete(ConsentRecord)),
    ):
        with pytest.raises(AppendOnlyError):
            await database.run(refused)
    records = await database.run(lambda session: list(session.scalars(select(ConsentRecord))))
    assert len(records) == 1
    assert records[0].decision is ConsentDecision.ACCEPTED
    assert records[0].terms_version == DEFAULT_TERMS.version("en")
