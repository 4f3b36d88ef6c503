"""migrate, purge, export and erase as an operator runs them: a subprocess on a SQLite file."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from telegram import InputMediaPhoto

from bot.cli import CommandError
from bot.cli.db import _writing_once
from bot.db import cases, triage
from bot.db.database import Database
from bot.db.migrate import head_revision
from bot.db.models import ConsentDecision
from tests.db.helpers import (
    DIAGNOSIS,
    QUESTIONNAIRE,
    accept_terms,
    add_checked_photo,
    consent_history,
    photo,
    set_answers,
)
from tests.db.test_database import _hold_write_lock
from tests.fakes.plugin import bot_for
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeGroup, FakeUser
from tests.images import jpeg_bytes, make_skin_photo
from tests.test_cli_run import run_cli

PERSON = 9_100_200_300
OLD = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)


async def _fill(url: str) -> None:
    async with Database.open(url) as database:
        await accept_terms(database, PERSON)
        for when in (OLD, None):
            case = await database.run(cases.create_case, PERSON, now=when)
            await database.run(add_checked_photo, case.public_id, photo(1, str(when)), now=when)
            await database.run(set_answers, case.public_id, QUESTIONNAIRE, now=when)
            await database.run(cases.mark_submitted, case.public_id, now=when)
            await database.run(cases.mark_completed, case.public_id, DIAGNOSIS, now=when)


async def _history(url: str) -> list[ConsentDecision]:
    async with Database.open(url) as database:
        return [r.decision for r in await database.run(consent_history, PERSON)]


async def test_operator_commands(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state' / 'bot.sqlite3'}"
    env = {"DATABASE_URL": url}

    before = await asyncio.to_thread(run_cli, "purge", cwd=tmp_path, env=env)
    assert before.returncode == 2 and "python -m bot migrate" in before.stderr

    migrated = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert f"upgraded from revision none to {head_revision()}" in migrated.stdout
    again = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "already up to date" in again.stdout

    await _fill(url)

    no_key = await asyncio.to_thread(run_cli, "export", cwd=tmp_path, env=env)
    assert no_key.returncode == 2 and "EXPORT_HASH_KEY" in no_key.stderr
    assert no_key.stdout == ""
    keyed = {**env, "EXPORT_HASH_KEY": "operator-secret"}
    exported = await asyncio.to_thread(run_cli, "export", cwd=tmp_path, env=keyed)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 2 and str(PERSON) not in exported.stdout
    assert "operator-secret" not in exported.stdout + exported.stderr
    target = tmp_path / "cases.csv"
    to_file = await asyncio.to_thread(
        run_cli, "export", "--output", str(target), cwd=tmp_path, env=keyed
    )
    assert to_file.returncode == 0 and target.read_text() == exported.stdout

    dry = await asyncio.to_thread(run_cli, "purge", "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0 and "would delete 1 case" in dry.stdout
    purged = await asyncio.to_thread(run_cli, "purge", "--days", "30", cwd=tmp_path, env=env)
    assert purged.returncode == 0 and "deleted 1 case" in purged.stdout
    bad_days = await asyncio.to_thread(run_cli, "purge", "--days", "0", cwd=tmp_path, env=env)
    assert bad_days.returncode == 2

    erased = await asyncio.to_thread(
        run_cli, "erase", "--telegram-user-id", str(PERSON), cwd=tmp_path, env=env
    )
    assert erased.returncode == 0, erased.stderr
    assert "deleted 1 case(s) and the profile" in erased.stdout
    assert await _history(url) == [ConsentDecision.ACCEPTED, ConsentDecision.WITHDRAWN]
    after = await asyncio.to_thread(run_cli, "export", cwd=tmp_path, env=keyed)
    assert list(csv.DictReader(io.StringIO(after.stdout))) == []


async def test_unreachable_database_exits_1_without_the_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+asyncpg://bot:hunter2secret@127.0.0.1:9/bot"}
    result = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "hunter2secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_run_hands_the_bot_the_migration_it_applies_once_it_leads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.app
    from bot.cli import main
    from bot.db.migrate import current_revision, head_revision

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    seen: list[str | None] = []

    def run_bot(settings: object, migrate: Callable[[], None]) -> int:
        seen.append(current_revision(url))
        migrate()  # as the bot does once it leads
        seen.append(current_revision(url))
        return 0

    monkeypatch.setattr(bot.app, "run_bot", run_bot)
    assert main(["run"]) == 0
    assert seen == [None, head_revision()]


async def _posted_long_ago(url: str, album: list[int], card: int, group: int) -> None:
    """A case finished OLD, posted to the clinic's group as `album` and `card`."""
    async with Database.open(url) as database:
        await accept_terms(database, PERSON)
        case = await database.run(cases.create_case, PERSON, now=OLD)
        await database.run(add_checked_photo, case.public_id, photo(1, "posted"), now=OLD)
        await database.run(cases.mark_submitted, case.public_id, now=OLD)
        case = await database.run(cases.mark_completed, case.public_id, DIAGNOSIS, now=OLD)
        post = await database.run(triage.enqueue, case, "self_care", now=OLD)
        await database.run(triage.record_album, post.id, case.public_id, album, chat_id=group)
        await database.run(triage.record_card, post.id, case.public_id, card, chat_id=group)


async def test_purge_deletes_the_clinics_copies_when_it_has_a_token(
    tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    group = FakeGroup(fake_telegram, "Clinic", [FakeUser(fake_telegram, "Nurse")])
    async with bot_for(fake_telegram) as bot:
        album = await bot.send_media_group(
            group.id, [InputMediaPhoto(jpeg_bytes(make_skin_photo(64, 64, seed=n))) for n in (1, 2)]
        )
        card = await bot.send_message(group.id, "Case abc")
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    env = {"DATABASE_URL": url, "TRIAGE_CHAT_ID": str(group.id)}
    await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, env=env)
    await _posted_long_ago(url, [m.message_id for m in album], card.message_id, group.id)

    # Without a token the copies wait for the bot; nothing is lost.
    offline = await asyncio.to_thread(run_cli, "purge", cwd=tmp_path, env=env)
    assert offline.returncode == 0 and "deleted 1 case" in offline.stdout
    assert "1 case(s) still have messages in the clinic's group" in offline.stdout
    assert not any(m.deleted for m in group.state.messages.values())

    with_token = {
        **env,
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
    }
    purged = await asyncio.to_thread(run_cli, "purge", cwd=tmp_path, env=with_token)
    assert purged.returncode == 0, purged.stderr
    assert "clinic's group: deleted 3 message(s); 0 could not be deleted" in purged.stdout
    assert all(m.deleted for m in group.state.messages.values() if m.from_bot)
    assert fake_telegram.token not in purged.stdout + purged.stderr


async def test_an_export_run_again_after_a_lock_fails_instead_of_writing_rows_twice(
    tmp_path: Path,
) -> None:
    # Units of work run again when they meet another program's lock; one that has written to
    # the export's file cannot be, or its rows would be there twice.
    path = tmp_path / "bot.sqlite3"
    taken = threading.Event()

    def export(session: Session, out: io.StringIO) -> int:
        out.write("case_id\n")
        session.execute(text("INSERT INTO note VALUES ('read')"))  # meets the lock
        return 0

    out = io.StringIO()
    async with Database.open(f"sqlite:///{path}", lock_wait_s=5) as database:
        await database.run_on_connection(
            lambda connection: connection.exec_driver_sql("CREATE TABLE note (body TEXT)")
        )
        holder = threading.Thread(target=_hold_write_lock, args=(path, 0.3, taken))
        holder.start()
        try:
            await asyncio.to_thread(taken.wait, 5)
            with pytest.raises(CommandError, match="run it again"):
                await database.run(_writing_once(export), out)
        finally:
            await asyncio.to_thread(holder.join)
    assert out.getvalue() == "case_id\n"
