"""`triage-report` as an operator runs it: a subprocess on a migrated SQLite file."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from bot.db import cases
from bot.db import triage as store
from bot.db.database import Database
from bot.db.migrate import upgrade_to_head
from bot.db.models import TriageDecisionKind
from tests.db.helpers import DIAGNOSIS, QUESTIONNAIRE, accept_terms, case_with_photos, set_answers
from tests.test_cli_run import run_cli

PERSON = 9_100_200_301


async def _one_decided_case(url: str) -> None:
    async with Database.open(url) as database:
        await accept_terms(database, PERSON)
        public_id = await case_with_photos(database, PERSON, 1)
        await database.run(set_answers, public_id, QUESTIONNAIRE)
        await database.run(cases.mark_submitted, public_id)
        case = await database.run(cases.mark_completed, public_id, DIAGNOSIS)
        post = await database.run(store.enqueue, case, "self_care")
        await database.run(store.record_card, post.id, public_id, 7, chat_id=-4_000_000_001)
        await database.run(
            store.decide, post.id, 1, 0, TriageDecisionKind.IF_NO_IMPROVEMENT, 42, "=Dr Grey"
        )


async def test_report_prints_the_numbers_and_writes_decisions(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    await _one_decided_case(url)
    out = tmp_path / "decisions.csv"
    done = await asyncio.to_thread(
        run_cli, "triage-report", "--csv", str(out), cwd=tmp_path, env={"DATABASE_URL": url}
    )
    assert done.returncode == 0, done.stderr
    assert "first decisions: 1" in done.stdout
    assert "agreed with the AI's tier: 0 of 1 (0%); clinician more urgent: 1" in done.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1
    assert rows[0]["decision"] == "if_no_improvement" and rows[0]["advice_tier"] == "self_care"
    assert rows[0]["clinician"] == "'=Dr Grey"  # never a spreadsheet formula
    assert str(PERSON) not in out.read_text(encoding="utf-8")
