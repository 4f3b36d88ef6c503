"""Follow-up reminders and follow-up checks in storage: set once, claimed by one worker at a time,
sent once, dropped with their case; the link of a follow-up cleared when the earlier case goes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import cases
from bot.db.claims import release_all
from bot.db.database import Database
from bot.db.erasure import erase_user
from bot.db.errors import CaseAlreadyOpen, CaseNotFound
from bot.db.follow_ups import create_follow_up, earlier_case, follow_up_pair
from bot.db.models import Case, Reminder
from bot.db.reminders import (
    CLAIM_FOR,
    MAX_ATTEMPTS,
    cancel_reminder,
    claim_due,
    drop_reminders_of,
    mark_sent,
    pending_reminders,
    release,
    set_reminder,
)
from bot.db.retention import purge_expired_cases
from bot.domain.questionnaire import Onset, Severity
from tests.db.helpers import DIAGNOSIS, QUESTIONNAIRE, accept_terms, add_checked_photo, photo

USER = 4_500_000_001
OTHER = 4_500_000_002
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
DUE = NOW + dt.timedelta(days=14)


def _completed(session: Session, user: int, tag: str, at: dt.datetime) -> uuid.UUID:
    case = cases.create_case(session, user, now=at)
    case.answers = QUESTIONNAIRE.to_dict()
    add_checked_photo(session, case.public_id, photo(1, tag), now=at)
    cases.mark_submitted(session, case.public_id, now=at)
    cases.mark_completed(session, case.public_id, DIAGNOSIS, now=at)
    return case.public_id


async def completed(
    database: Database, user: int = USER, tag: str = "a", at: dt.datetime = NOW
) -> uuid.UUID:
    await accept_terms(database, user)
    return await database.run(_completed, user, tag, at)


def _rows(session: Session) -> list[Reminder]:
    return list(session.scalars(select(Reminder).order_by(Reminder.id)))


async def test_a_second_press_keeps_the_reminder_and_a_cancelled_one_is_set_anew(
    database: Database,
) -> None:
    public_id = await completed(database)
    first = await database.run(set_reminder, USER, public_id, after_days=14, due_at=DUE, now=NOW)
    again = await database.run(
        set_reminder, USER, public_id, after_days=28, due_at=DUE + dt.timedelta(days=14), now=NOW
    )
    assert (again.id, again.due_at, again.after_days) == (first.id, DUE, 14)
    assert await database.run(cancel_reminder, USER, public_id=public_id)
    assert not await database.run(cancel_reminder, USER, public_id=public_id)
    assert await database.run(pending_reminders, USER) == []
    later = DUE + dt.timedelta(days=14)
    anew = await database.run(set_reminder, USER, public_id, after_days=28, due_at=later, now=NOW)
    assert (anew.id, anew.due_at, anew.pending) == (first.id, later, True)
    assert [r.id for r in await database.run(pending_reminders, USER)] == [first.id]


async def test_only_the_persons_own_completed_case_gets_a_reminder(database: Database) -> None:
    public_id = await completed(database)
    with pytest.raises(CaseNotFound):
        await database.run(set_reminder, OTHER, public_id, after_days=14, due_at=DUE, now=NOW)
    open_case = await database.run(cases.create_case, USER, now=NOW)
    with pytest.raises(CaseNotFound):
        await database.run(
            set_reminder, USER, open_case.public_id, after_days=14, due_at=DUE, now=NOW
        )
    assert not await database.run(cancel_reminder, OTHER, public_id=public_id)


async def test_a_claim_holds_the_reminder_until_it_lapses_then_it_is_sent_once(
    database: Database,
) -> None:
    """A crash between the claim and the send: no other worker sends it while the claim holds;
    once it lapses the next round sends it; once recorded sent, no round sends it again."""
    public_id = await completed(database)
    await database.run(set_reminder, USER, public_id, after_days=14, due_at=DUE, now=NOW)
    assert await database.run(claim_due, "early", now=DUE - dt.timedelta(seconds=1)) == []
    crashed = await database.run(claim_due, "crashed", now=DUE)
    assert [c.case_public_id for c in crashed] == [public_id]
    # "crashed" never sends it (nor records anything): the claim holds it meanwhile.
    assert await database.run(claim_due, "other", now=DUE + CLAIM_FOR / 2) == []
    lapsed = DUE + CLAIM_FOR
    taken = await database.run(claim_due, "other", now=lapsed)
    assert [(c.id, c.attempts) for c in taken] == [(crashed[0].id, 2)]
    assert await database.run(mark_sent, taken[0].id, "other", now=lapsed)
    for later in (lapsed, lapsed + CLAIM_FOR, lapsed + dt.timedelta(days=30)):
        assert await database.run(claim_due, "third", now=later) == []
    (row,) = await database.run(_rows)
    assert (row.sent_at, row.claimed_by, row.claimed_until) == (lapsed, "other", None)


async def test_two_workers_claiming_at_once_take_each_reminder_once(database: Database) -> None:
    ids = []
    for n in range(6):
        public_id = await completed(database, tag=f"c{n}")
        ids.append(public_id)
        await database.run(set_reminder, USER, public_id, after_days=14, due_at=DUE, now=NOW)
    first, second = await asyncio.gather(
        database.run(claim_due, "one", now=DUE), database.run(claim_due, "two", now=DUE)
    )
    taken = [c.case_public_id for c in [*first, *second]]
    assert sorted(taken) == sorted(ids)


async def test_a_refused_reminder_waits_and_is_dropped_when_blocked_or_tried_too_often(
    database: Database,
) -> None:
    blocked, flaky = await completed(database, tag="b"), await completed(database, tag="f")
    for public_id in (blocked, flaky):
        await database.run(set_reminder, USER, public_id, after_days=14, due_at=DUE, now=NOW)
    claimed = {c.case_public_id: c.id for c in await database.run(claim_due, "w", now=DUE)}
    await database.run(release, claimed[blocked], give_up=True, now=DUE)
    await database.run(release, claimed[flaky], give_up=False, now=DUE)
    assert [r.id for r in await database.run(_rows)] == [claimed[flaky]]
    moment = DUE
    for _ in range(MAX_ATTEMPTS - 1):
        assert await database.run(claim_due, "w", now=moment) == []  # waiting to try again
        moment += dt.timedelta(hours=1)
        assert len(await database.run(claim_due, "w", now=moment)) == 1
        await database.run(release, claimed[flaky], give_up=False, now=moment)
    assert await database.run(_rows) == []


async def test_a_stopping_worker_gives_its_claimed_reminders_back_and_the_sent_stay_sent(
    database: Database,
) -> None:
    """A clean stop (or a start on SQLite, bot/db/claims.py: release_all) lets the next process
    send at once what the stopped one had claimed, and nothing it had sent already."""
    sent, unsent = await completed(database, tag="s"), await completed(database, tag="u")
    for public_id in (sent, unsent):
        await database.run(set_reminder, USER, public_id, after_days=14, due_at=DUE, now=NOW)
    claimed = {c.case_public_id: c.id for c in await database.run(claim_due, "stopping", now=DUE)}
    assert await database.run(mark_sent, claimed[sent], "stopping", now=DUE)
    await database.run(release_all, "stopping")
    taken = await database.run(claim_due, "next", now=DUE)
    assert [c.id for c in taken] == [claimed[unsent]]
    assert [(r.id, r.claimed_by) for r in await database.run(_rows)] == [
        (claimed[sent], "stopping"),
        (claimed[unsent], "next"),
    ]


async def test_withdrawal_drops_pending_reminders_and_erasure_every_one(database: Database) -> None:
    mine, theirs = await completed(database), await completed(database, OTHER, tag="o")
    for user, public_id in ((USER, mine), (OTHER, theirs)):
        await database.run(set_reminder, user, public_id, after_days=14, due_at=DUE, now=NOW)
    assert await database.run(drop_reminders_of, USER) == 1
    assert [r.case_id for r in await database.run(_rows)] != []
    assert await database.run(pending_reminders, USER) == []
    assert len(await database.run(pending_reminders, OTHER)) == 1
    await database.run(erase_user, OTHER)
    assert await database.run(_rows) == []


async def test_a_follow_up_carries_the_answers_over_and_moves_the_onset_on(
    database: Database,
) -> None:
    public_id = await completed(database)

    def follow(session: Session, at: dt.datetime) -> tuple[Case, uuid.UUID]:
        earlier = earlier_case(session, USER, public_id)
        assert earlier is not None
        case = create_follow_up(session, earlier, language="es", now=at)
        return case, earlier.public_id

    case, _ = await database.run(follow, NOW + dt.timedelta(days=28))
    answers = case.questionnaire
    assert (answers.birth_year, answers.sex, answers.skin_type, answers.body_site) == (
        QUESTIONNAIRE.birth_year,
        QUESTIONNAIRE.sex,
        QUESTIONNAIRE.skin_type,
        QUESTIONNAIRE.body_site,
    )
    # "Under a month" four weeks ago: at least five weeks now.
    assert QUESTIONNAIRE.onset is Onset.UNDER_A_MONTH
    assert answers.onset is Onset.UNDER_A_YEAR
    assert (answers.itch, answers.pain) == (None, None)
    assert QUESTIONNAIRE.itch is Severity.MILD_TO_MODERATE
    assert case.step == "photos"
    with pytest.raises(CaseAlreadyOpen):
        await database.run(follow, NOW + dt.timedelta(days=28))
    assert await database.run(earlier_case, OTHER, public_id) is None


async def test_purging_the_earlier_case_unlinks_the_follow_up_and_drops_its_reminder(
    database: Database,
) -> None:
    earlier_id = await completed(database, at=NOW - dt.timedelta(days=100))
    await database.run(
        set_reminder, USER, earlier_id, after_days=14, due_at=NOW + dt.timedelta(days=1), now=NOW
    )

    def follow(session: Session) -> uuid.UUID:
        earlier = earlier_case(session, USER, earlier_id)
        assert earlier is not None
        case = create_follow_up(session, earlier, now=NOW)
        add_checked_photo(session, case.public_id, photo(2, "f"), now=NOW)
        cases.mark_submitted(session, case.public_id, now=NOW)
        cases.mark_completed(session, case.public_id, DIAGNOSIS, now=NOW)
        return case.public_id

    follow_up = await database.run(follow)
    pair = await database.run(follow_up_pair, follow_up)
    assert pair is not None and pair.earlier.checked_at == NOW - dt.timedelta(days=100)
    assert await database.run(purge_expired_cases, 90, now=NOW) == 1

    def link(session: Session) -> tuple[int | None, int]:
        case = session.scalar(select(Case).where(Case.public_id == follow_up))
        assert case is not None
        return case.follow_up_of, len(_rows(session))

    assert await database.run(link) == (None, 0)
    assert await database.run(follow_up_pair, follow_up) is None


async def test_the_database_itself_unlinks_a_follow_up_whose_earlier_case_is_deleted(
    database: Database,
) -> None:
    """ON DELETE SET NULL, for a deletion that is not the purge's (by hand, another tool)."""
    earlier_id = await completed(database)

    def follow_and_delete(session: Session) -> int | None:
        earlier = earlier_case(session, USER, earlier_id)
        assert earlier is not None
        case = create_follow_up(session, earlier, now=NOW)
        session.flush()
        session.execute(
            delete(Case)
            .where(Case.public_id == earlier_id)
            .execution_options(synchronize_session=False)
        )
        session.expire_all()
        return session.scalar(select(Case.follow_up_of).where(Case.id == case.id))

    assert await database.run(follow_and_delete) is None
