"""Erasing a person leaves no trace of them outside the consent records."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, MetaData, select

from bot.db import cases
from bot.db.database import Database
from bot.db.erasure import erase_user
from bot.db.models import ConsentDecision, Subject
from tests.db.helpers import (
    DIAGNOSIS,
    QUESTIONNAIRE,
    accept_terms,
    add_checked_photo,
    consent_history,
    photo,
    set_answers,
    set_subject,
)

PERSON = 8_765_432_109
OTHER = 8_765_432_110


def patient_ref(tag: str) -> str:
    return f"Aunt Zelda {tag}"


def body_site(tag: str) -> str:
    return f"behind the left knee {tag}"


def _cells(connection: Connection) -> dict[str, list[str]]:
    metadata = MetaData()
    metadata.reflect(connection)
    cells: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        rows = connection.execute(select(table)).all()
        cells[table.name] = [
            json.dumps(value) if isinstance(value, dict | list) else str(value)
            for row in rows
            for value in row
        ]
    return cells


async def every_cell(database: Database) -> dict[str, list[str]]:
    """Every value of every column of every table, found by reflecting the schema."""
    return await database.run_on_connection(_cells)


async def _full_person(database: Database, telegram_user_id: int, tag: str) -> None:
    await accept_terms(database, telegram_user_id)
    for status_path in ("completed", "collecting"):
        case = await database.run(cases.create_case, telegram_user_id, language="en")
        for n in (1, 2):
            await database.run(add_checked_photo, case.public_id, photo(n, tag + status_path))
        await database.run(
            set_answers,
            case.public_id,
            QUESTIONNAIRE.__class__(**{**QUESTIONNAIRE.to_dict(), "body_site": body_site(tag)}),
        )
        await database.run(
            set_subject, case.public_id, Subject.OTHER_WITH_PERMISSION, patient_ref(tag)
        )
        if status_path == "completed":
            await database.run(cases.mark_submitted, case.public_id)
            await database.run(cases.mark_completed, case.public_id, DIAGNOSIS)


def _needles(telegram_user_id: int, tag: str) -> list[str]:
    refs = [photo(n, tag + s) for n in (1, 2) for s in ("completed", "collecting")]
    return [
        str(telegram_user_id),
        patient_ref(tag),
        body_site(tag),
        *(r.file_id for r in refs),
        *(r.file_unique_id for r in refs),
    ]


async def test_erase_leaves_only_consent_records(database: Database) -> None:
    await _full_person(database, PERSON, "p")
    await _full_person(database, OTHER, "o")
    before = await every_cell(database)
    assert any(str(PERSON) in cell for cell in before["users"])

    erasure = await database.run(erase_user, PERSON)
    assert erasure.cases_deleted == 2 and erasure.profile_deleted
    assert erasure.withdrawal is not None

    after = await every_cell(database)
    assert set(after) == set(before) and "consent_records" in after
    for table, cells in after.items():
        if table in ("consent_records", "alembic_version"):
            continue
        for needle in _needles(PERSON, "p"):
            assert not any(needle in cell for cell in cells), (table, needle)
    # The other person is untouched.
    for needle in _needles(OTHER, "o"):
        assert any(needle in cell for cells in after.values() for cell in cells), needle

    history = await database.run(consent_history, PERSON)
    assert await database.run(cases.recent_cases, PERSON) == []
    assert [r.decision for r in history] == [ConsentDecision.ACCEPTED, ConsentDecision.WITHDRAWN]


async def test_erase_is_idempotent(database: Database) -> None:
    await _full_person(database, PERSON, "p")
    await database.run(erase_user, PERSON)
    state: Any = await every_cell(database)
    again = await database.run(erase_user, PERSON)
    assert (again.cases_deleted, again.profile_deleted) == (0, False)
    assert again.withdrawal is not None and again.withdrawal.decision is ConsentDecision.WITHDRAWN
    assert await every_cell(database) == state


async def test_erasing_someone_never_seen_stores_nothing(database: Database) -> None:
    erasure = await database.run(erase_user, PERSON)
    assert (erasure.cases_deleted, erasure.profile_deleted, erasure.withdrawal) == (0, False, None)
    # (bot_state holds the bot's own settings in force, about no one.)
    cells = await every_cell(database)
    assert all(not values for table, values in cells.items() if table != "bot_state")
