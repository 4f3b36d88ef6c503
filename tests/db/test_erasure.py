"""Erasing a person leaves no trace of them outside the consent records."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import cases, consent
from bot.db.erasure import erase_user
from bot.db.models import ConsentDecision, Subject
from tests.db.helpers import DIAGNOSIS, QUESTIONNAIRE, Sessions, accept_terms, photo

PERSON = 8_765_432_109
OTHER = 8_765_432_110


def patient_ref(tag: str) -> str:
    return f"Aunt Zelda {tag}"


def body_site(tag: str) -> str:
    return f"behind the left knee {tag}"


async def _every_cell(engine: AsyncEngine) -> dict[str, list[str]]:
    """Every value of every column of every table, found by reflecting the schema."""
    metadata = MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        cells: dict[str, list[str]] = {}
        for table in metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            cells[table.name] = [
                json.dumps(value) if isinstance(value, dict | list) else str(value)
                for row in rows
                for value in row
            ]
    return cells


async def _full_person(sessions: Sessions, telegram_user_id: int, tag: str) -> None:
    await accept_terms(sessions, telegram_user_id)
    for status_path in ("completed", "collecting"):
        async with sessions.begin() as session:
            case = await cases.create_case(session, telegram_user_id, language="en")
            for n in (1, 2):
                await cases.add_photo(session, case.public_id, photo(n, tag + status_path))
            await cases.set_answers(
                session,
                case.public_id,
                QUESTIONNAIRE.__class__(**{**QUESTIONNAIRE.to_dict(), "body_site": body_site(tag)}),
            )
            await cases.set_subject(
                session, case.public_id, Subject.OTHER_WITH_PERMISSION, patient_ref(tag)
            )
            if status_path == "completed":
                await cases.mark_submitted(session, case.public_id)
                await cases.mark_completed(session, case.public_id, DIAGNOSIS)


def _needles(telegram_user_id: int, tag: str) -> list[str]:
    refs = [photo(n, tag + s) for n in (1, 2) for s in ("completed", "collecting")]
    return [
        str(telegram_user_id),
        patient_ref(tag),
        body_site(tag),
        *(r.file_id for r in refs),
        *(r.file_unique_id for r in refs),
    ]


async def test_erase_leaves_only_consent_records(sessions: Sessions, engine: AsyncEngine) -> None:
    await _full_person(sessions, PERSON, "p")
    await _full_person(sessions, OTHER, "o")
    before = await _every_cell(engine)
    assert any(str(PERSON) in cell for cell in before["users"])

    async with sessions.begin() as session:
        erasure = await erase_user(session, PERSON)
    assert erasure.cases_deleted == 2 and erasure.profile_deleted
    assert erasure.withdrawal is not None

    after = await _every_cell(engine)
    assert set(after) == set(before) and "consent_records" in after
    for table, cells in after.items():
        if table in ("consent_records", "alembic_version"):
            continue
        for needle in _needles(PERSON, "p"):
            assert not any(needle in cell for cell in cells), (table, needle)
    # The other person is untouched.
    for needle in _needles(OTHER, "o"):
        assert any(needle in cell for cells in after.values() for cell in cells), needle

    async with sessions() as session:
        history = await consent.consent_history(session, PERSON)
        assert await cases.recent_cases(session, PERSON) == []
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.WITHDRAWN]


async def test_erase_is_idempotent(sessions: Sessions, engine: AsyncEngine) -> None:
    await _full_person(sessions, PERSON, "p")
    async with sessions.begin() as session:
        await erase_user(session, PERSON)
    state: Any = await _every_cell(engine)
    async with sessions.begin() as session:
        again = await erase_user(session, PERSON)
    assert (again.cases_deleted, again.profile_deleted) == (0, False)
    assert again.withdrawal is not None and again.withdrawal.decision is ConsentDecision.WITHDRAWN
    assert await _every_cell(engine) == state


async def test_erasing_someone_never_seen_stores_nothing(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    async with sessions.begin() as session:
        erasure = await erase_user(session, PERSON)
    assert (erasure.cases_deleted, erasure.profile_deleted, erasure.withdrawal) == (0, False, None)
    # (bot_state holds the bot's own settings in force, about no one.)
    cells = await _every_cell(engine)
    assert all(not values for table, values in cells.items() if table != "bot_state")
