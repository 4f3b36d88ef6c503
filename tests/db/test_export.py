"""CSV export: useful for research, and nothing in it names a person."""

from __future__ import annotations

import csv
import io

import pytest

from bot.db import cases
from bot.db.database import Database
from bot.db.export import COLUMNS, operator_export_csv, user_hash
from bot.db.models import Subject
from tests.db.helpers import (
    DIAGNOSIS,
    QUESTIONNAIRE,
    accept_terms,
    add_checked_photo,
    photo,
    set_answers,
    set_subject,
)

ALICE = 1_234_567_890_123
BOB = 2_222_222_222
KEY = b"a-secret-export-key"


async def _completed(database: Database, who: int, tag: str, ref: str | None) -> None:
    case = await database.run(cases.create_case, who)
    await database.run(add_checked_photo, case.public_id, photo(1, tag))
    await database.run(add_checked_photo, case.public_id, photo(2, tag))
    await database.run(set_answers, case.public_id, QUESTIONNAIRE)
    if ref:
        await database.run(set_subject, case.public_id, Subject.OTHER_WITH_PERMISSION, ref)
    await database.run(cases.mark_submitted, case.public_id)
    await database.run(cases.mark_completed, case.public_id, DIAGNOSIS)


async def _export(database: Database, key: bytes = KEY) -> tuple[str, list[dict[str, str]]]:
    out = io.StringIO()
    count = await database.run(operator_export_csv, out, key)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == count
    return out.getvalue(), rows


async def test_export_has_the_research_fields_and_no_identifiers(database: Database) -> None:
    for who in (ALICE, BOB):
        await accept_terms(database, who)
    await _completed(database, ALICE, "a1", "Mr Patel ward 3")
    await _completed(database, BOB, "b1", None)
    await database.run(cases.create_case, ALICE)  # still collecting

    text, rows = await _export(database)
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == 3
    for secret in (str(ALICE), str(BOB), "Mr Patel", photo(1, "a1").file_id, "AQAD"):
        assert secret not in text

    done = rows[0]
    assert done["status"] == "completed" and done["subject"] == "other_with_permission"
    assert done["photos"] == "2"
    assert done["birth_year"] == "1978" and done["sex"] == "f" and done["onset"] == "w"
    assert done["body_site"] == "left forearm"
    assert (done["condition_1"], float(done["probability_1"])) == ("Insect bite", 0.2728)
    assert done["condition_3"] == "Xerotic eczema" and done["condition_4"] == ""
    assert done["malignancy_output"] == "4" and done["photos_analysed"] == "2"
    assert done["server"] == DIAGNOSIS.server and float(done["latency_s"]) == 2.5
    assert done["attempts"] == "1"
    assert rows[2]["status"] == "collecting" and rows[2]["completed_at"] == ""


async def test_user_hash_is_stable_per_person_and_key(database: Database) -> None:
    for who in (ALICE, BOB):
        await accept_terms(database, who)
    await _completed(database, ALICE, "a1", None)
    await _completed(database, BOB, "b1", None)
    await _completed(database, ALICE, "a2", None)
    _, first = await _export(database)
    _, second = await _export(database)
    hashes = [row["user_hash"] for row in first]
    assert hashes == [row["user_hash"] for row in second]
    assert hashes[0] == hashes[2] == user_hash(KEY, ALICE) != hashes[1]
    _, other_key = await _export(database, b"another-key")
    assert other_key[0]["user_hash"] != hashes[0]
    with pytest.raises(ValueError):
        await _export(database, b"")


async def test_free_text_cannot_become_a_spreadsheet_formula(database: Database) -> None:
    case = await database.run(cases.create_case, ALICE)
    await database.run(
        set_answers, case.public_id, QUESTIONNAIRE.__class__(body_site="=HYPERLINK(1)")
    )
    _, rows = await _export(database)
    assert rows[0]["body_site"] == "'=HYPERLINK(1)"
