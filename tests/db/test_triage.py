"""Triage storage on both databases: queue, decisions and conflicts, reopening, erasure, audit."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import cases
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.erasure import erase_user
from bot.db.errors import CaseAlreadyOpen
from bot.db.models import CaseStatus, TriageDecisionKind, TriageDirection
from bot.db.triage_audit import export_decisions_csv, triage_report
from tests.db.helpers import DIAGNOSIS, QUESTIONNAIRE, Sessions, accept_terms, case_with_photos
from tests.db.test_erasure import _every_cell

PERSON = 8_765_432_111
CLINICIAN = 5_550_001
GROUP = -4_000_000_001
RELAYED = "The itch is worse at night, says Mrs Zed"


async def _posted_case(
    sessions: Sessions, person: int = PERSON, tier: str = "see_doctor"
) -> tuple[uuid.UUID, int]:
    await accept_terms(sessions, person)
    public_id = await case_with_photos(sessions, person, 2)
    async with sessions.begin() as session:
        await cases.set_answers(session, public_id, QUESTIONNAIRE)
        await cases.mark_submitted(session, public_id)
        case = await cases.mark_completed(session, public_id, DIAGNOSIS)
        post = await store.enqueue(session, case, tier)
        await store.record_album(session, post.id, public_id, [11, 12], chat_id=GROUP)
        await store.record_card(session, post.id, public_id, 13, chat_id=GROUP)
        return public_id, post.id


async def test_a_second_decision_needs_the_view_that_saw_the_first(sessions: Sessions) -> None:
    _, post_id = await _posted_case(sessions)
    async with sessions() as session:
        assert [p.id for p in await store.undecided(session)] == [post_id]
    async with sessions.begin() as session:
        first = await store.decide(
            session, post_id, 1, 0, TriageDecisionKind.ROUTINE, CLINICIAN, "Dr Grey"
        )
    assert not first.changed and first.waited_s >= 0
    # Another clinician pressing on the same (old) view is refused; nothing is recorded.
    with pytest.raises(store.TriageConflict):
        async with sessions.begin() as session:
            await store.decide(session, post_id, 1, 0, TriageDecisionKind.SELF_CARE, 2, "Dr B")
    async with sessions.begin() as session:
        second = await store.decide(session, post_id, 1, 1, TriageDecisionKind.URGENT, 2, "Dr B")
    assert second.changed
    async with sessions() as session:
        post = await store.get_post(session, post_id)
        assert post is not None
        decisions = await store.decisions_of(session, post.case_id, 1)
        assert await store.undecided(session) == []
    assert [d.decision for d in decisions] == [
        TriageDecisionKind.ROUTINE,
        TriageDecisionKind.URGENT,
    ]
    assert post.decision is TriageDecisionKind.URGENT


async def test_undelivered_decision_is_only_the_latest(sessions: Sessions) -> None:
    public_id, post_id = await _posted_case(sessions)
    async with sessions.begin() as session:
        await store.decide(session, post_id, 1, 0, TriageDecisionKind.ROUTINE, CLINICIAN, "A")
        latest = await store.decide(
            session, post_id, 1, 1, TriageDecisionKind.SELF_CARE, CLINICIAN, "A"
        )
    async with sessions() as session:
        lost = await store.undelivered_decisions(
            session, decided_before=utcnow() + dt.timedelta(seconds=1)
        )
    assert [(item.decision.id, item.public_id, item.telegram_user_id) for item in lost] == [
        (latest.id, public_id, PERSON)
    ]
    async with sessions.begin() as session:
        await store.mark_decision_delivered(session, latest.id)
        assert await store.undelivered_decisions(session, decided_before=utcnow()) == []


async def test_better_photos_reopens_the_case_once_and_only_for_its_owner(
    sessions: Sessions,
) -> None:
    public_id, post_id = await _posted_case(sessions)
    async with sessions.begin() as session:
        await store.decide(session, post_id, 1, 0, TriageDecisionKind.BETTER_PHOTOS, CLINICIAN, "A")
    with pytest.raises(store.TriageConflict):
        async with sessions.begin() as session:
            await store.reopen_for_photos(session, post_id, 1, 1, PERSON + 1)
    # Another check being collected comes first: one case at a time.
    async with sessions.begin() as session:
        other = await cases.create_case(session, PERSON)
    with pytest.raises(CaseAlreadyOpen):
        async with sessions.begin() as session:
            await store.reopen_for_photos(session, post_id, 1, 1, PERSON)
    async with sessions.begin() as session:
        await cases.cancel_case(session, other.public_id)
    async with sessions.begin() as session:
        case = await store.reopen_for_photos(session, post_id, 1, 1, PERSON)
        assert case.status is CaseStatus.COLLECTING and case.photos == []
        assert case.questionnaire == QUESTIONNAIRE
    with pytest.raises(store.TriageConflict):
        async with sessions.begin() as session:
            await store.reopen_for_photos(session, post_id, 1, 1, PERSON)
    async with sessions() as session:
        post = await store.get_post(session, post_id)
        assert post is not None and post.round == 2 and post.decision is None
        assert (await cases.open_case(session, PERSON)).public_id == public_id  # type: ignore[union-attr]


async def test_due_reminders_once_per_period(sessions: Sessions) -> None:
    _, post_id = await _posted_case(sessions)
    hour = dt.timedelta(hours=1)
    later = utcnow() + 2 * hour
    async with sessions.begin() as session:
        assert await store.due_reminders(session, after=hour) == []
        assert [p.id for p in await store.due_reminders(session, after=hour, now=later)] == [
            post_id
        ]
        await store.mark_reminded(session, post_id, now=later)
        assert await store.due_reminders(session, after=hour, now=later + hour / 2) == []
        due = await store.due_reminders(session, after=hour, now=later + hour)
        assert [p.id for p in due] == [post_id]


async def test_erasure_removes_messages_and_keeps_decisions_unlinked(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    public_id, post_id = await _posted_case(sessions)
    async with sessions.begin() as session:
        post = await store.get_post(session, post_id)
        assert post is not None
        await store.record_message(
            session, post.case_id, TriageDirection.FROM_PERSON, RELAYED, group_message_id=99
        )
        await store.decide(session, post_id, 1, 0, TriageDecisionKind.URGENT, CLINICIAN, "Dr G")
    async with sessions.begin() as session:
        await erase_user(session, PERSON)
    cells = await _every_cell(engine)
    for table, values in cells.items():
        if table in ("consent_records", "alembic_version"):
            continue
        for needle in (str(PERSON), RELAYED, str(public_id)):
            assert not any(needle in value for value in values), (table, needle)
    assert cells["triage_messages"] == [] and cells["triage_posts"] == []
    async with sessions() as session:
        report = await triage_report(session)
        out = io.StringIO()
        assert await export_decisions_csv(session, out) == 1
    assert report.first_decisions == 1 and report.clinician_more_urgent == 1
    row = out.getvalue().splitlines()[1].split(",")
    assert row[0] == "" and row[2] == "urgent" and row[4] == "see_doctor"


async def test_report_counts_agreement_and_time_to_decision(sessions: Sessions) -> None:
    decisions = [
        ("self_care", TriageDecisionKind.SELF_CARE),
        ("see_dermatologist_soon", TriageDecisionKind.URGENT),
        ("see_doctor", TriageDecisionKind.SELF_CARE),
        ("self_care", TriageDecisionKind.BETTER_PHOTOS),
    ]
    for n, (tier, kind) in enumerate(decisions):
        _, post_id = await _posted_case(sessions, PERSON + n, tier)
        async with sessions.begin() as session:
            await store.decide(session, post_id, 1, 0, kind, CLINICIAN, "Dr Grey")
    async with sessions() as session:
        report = await triage_report(session)
    assert report.first_decisions == 4 and report.better_photos == 1
    assert (report.agreed, report.clinician_less_urgent, report.clinician_more_urgent) == (2, 1, 0)
    assert report.by_tier[("see_doctor", "self_care")] == 1
    assert report.median_wait_s() is not None and report.waiting_now == 0
