"""Triage storage on both databases: queue, decisions and conflicts, reopening, erasure, audit."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest

from bot.db import cases
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.erasure import erase_user
from bot.db.errors import CaseAlreadyOpen
from bot.db.models import CaseStatus, TriageDecisionKind, TriageDirection
from bot.db.triage_audit import agreement, export_decisions_csv, triage_report
from bot.domain.advice import AdviceTier
from tests.db.helpers import DIAGNOSIS, QUESTIONNAIRE, accept_terms, case_with_photos, set_answers
from tests.db.test_erasure import every_cell

PERSON = 8_765_432_111
CLINICIAN = 5_550_001
GROUP = -4_000_000_001
RELAYED = "The itch is worse at night, says Mrs Zed"


async def _posted_case(
    database: Database, person: int = PERSON, tier: str = "within_days"
) -> tuple[uuid.UUID, int]:
    await accept_terms(database, person)
    public_id = await case_with_photos(database, person, 2)
    await database.run(set_answers, public_id, QUESTIONNAIRE)
    await database.run(cases.mark_submitted, public_id)
    case = await database.run(cases.mark_completed, public_id, DIAGNOSIS)
    post = await database.run(store.enqueue, case, tier)
    await database.run(store.record_album, post.id, public_id, [11, 12], chat_id=GROUP)
    await database.run(store.record_card, post.id, public_id, 13, chat_id=GROUP)
    return public_id, post.id


async def test_a_second_decision_needs_the_view_that_saw_the_first(database: Database) -> None:
    _, post_id = await _posted_case(database)
    assert [p.id for p in await database.run(store.undecided)] == [post_id]
    first = await database.run(
        store.decide, post_id, 1, 0, TriageDecisionKind.IF_NO_IMPROVEMENT, CLINICIAN, "Dr Grey"
    )
    assert not first.changed and first.waited_s >= 0
    # Another clinician pressing on the same (old) view is refused; nothing is recorded.
    with pytest.raises(store.TriageConflict):
        await database.run(store.decide, post_id, 1, 0, TriageDecisionKind.SELF_CARE, 2, "Dr B")
    second = await database.run(
        store.decide, post_id, 1, 1, TriageDecisionKind.WITHIN_2_WEEKS, 2, "Dr B"
    )
    assert second.changed
    post = await database.run(store.get_post, post_id)
    assert post is not None
    decisions = await database.run(store.decisions_of, post.case_id, 1)
    assert await database.run(store.undecided) == []
    assert [d.decision for d in decisions] == [
        TriageDecisionKind.IF_NO_IMPROVEMENT,
        TriageDecisionKind.WITHIN_2_WEEKS,
    ]
    assert post.decision is TriageDecisionKind.WITHIN_2_WEEKS


async def test_undelivered_decision_is_only_the_latest(database: Database) -> None:
    public_id, post_id = await _posted_case(database)
    await database.run(
        store.decide, post_id, 1, 0, TriageDecisionKind.IF_NO_IMPROVEMENT, CLINICIAN, "A"
    )
    latest = await database.run(
        store.decide, post_id, 1, 1, TriageDecisionKind.SELF_CARE, CLINICIAN, "A"
    )
    lost = await database.run(
        store.undelivered_decisions, decided_before=utcnow() + dt.timedelta(seconds=1)
    )
    assert [(item.decision.id, item.public_id, item.telegram_user_id) for item in lost] == [
        (latest.id, public_id, PERSON)
    ]
    await database.run(store.mark_decision_delivered, latest.id)
    assert await database.run(store.undelivered_decisions, decided_before=utcnow()) == []


async def test_better_photos_reopens_the_case_once_and_only_for_its_owner(
    database: Database,
) -> None:
    public_id, post_id = await _posted_case(database)
    await database.run(
        store.decide, post_id, 1, 0, TriageDecisionKind.BETTER_PHOTOS, CLINICIAN, "A"
    )
    with pytest.raises(store.TriageConflict):
        await database.run(store.reopen_for_photos, post_id, 1, 1, PERSON + 1)
    # Another check being collected comes first: one case at a time.
    other = await database.run(cases.create_case, PERSON)
    with pytest.raises(CaseAlreadyOpen):
        await database.run(store.reopen_for_photos, post_id, 1, 1, PERSON)
    await database.run(cases.cancel_case, other.public_id)
    case = await database.run(store.reopen_for_photos, post_id, 1, 1, PERSON)
    assert case.status is CaseStatus.COLLECTING and case.photos == []
    assert case.questionnaire == QUESTIONNAIRE
    with pytest.raises(store.TriageConflict):
        await database.run(store.reopen_for_photos, post_id, 1, 1, PERSON)
    post = await database.run(store.get_post, post_id)
    assert post is not None and post.round == 2 and post.decision is None
    assert (await database.run(cases.open_case, PERSON)).public_id == public_id  # type: ignore[union-attr]


async def test_due_reminders_once_per_period(database: Database) -> None:
    _, post_id = await _posted_case(database)
    hour = dt.timedelta(hours=1)
    later = utcnow() + 2 * hour
    assert await database.run(store.due_reminders, after=hour) == []
    assert [p.id for p in await database.run(store.due_reminders, after=hour, now=later)] == [
        post_id
    ]
    await database.run(store.mark_reminded, post_id, now=later)
    assert await database.run(store.due_reminders, after=hour, now=later + hour / 2) == []
    due = await database.run(store.due_reminders, after=hour, now=later + hour)
    assert [p.id for p in due] == [post_id]


async def test_erasure_removes_messages_and_keeps_decisions_unlinked(database: Database) -> None:
    public_id, post_id = await _posted_case(database)
    post = await database.run(store.get_post, post_id)
    assert post is not None
    await database.run(
        store.record_message,
        post.case_id,
        TriageDirection.FROM_PERSON,
        RELAYED,
        group_message_id=99,
    )
    await database.run(
        store.decide, post_id, 1, 0, TriageDecisionKind.WITHIN_2_WEEKS, CLINICIAN, "Dr G"
    )
    await database.run(erase_user, PERSON)
    cells = await every_cell(database)
    for table, values in cells.items():
        if table in ("consent_records", "alembic_version"):
            continue
        for needle in (str(PERSON), RELAYED, str(public_id)):
            assert not any(needle in value for value in values), (table, needle)
    assert cells["triage_messages"] == [] and cells["triage_posts"] == []
    report = await database.run(triage_report)
    out = io.StringIO()
    assert await database.run(export_decisions_csv, out) == 1
    # Within 2 weeks is later than the AI's "within days": the clinician was less urgent.
    assert report.first_decisions == 1 and report.clinician_less_urgent == 1
    row = out.getvalue().splitlines()[1].split(",")
    assert row[0] == "" and row[2] == "within_2_weeks" and row[4] == "within_days"


@pytest.mark.parametrize(
    ("tier", "kind", "expected"),
    [
        ("within_days", TriageDecisionKind.WITHIN_2_WEEKS, -1),  # the old scale said +1
        ("within_2_weeks", TriageDecisionKind.WITHIN_DAYS, 1),  # the old scale said -1
        ("urgent_care", TriageDecisionKind.URGENT_CARE, 0),
        ("if_no_improvement", TriageDecisionKind.SELF_CARE, -1),
        ("self_care", TriageDecisionKind.IF_NO_IMPROVEMENT, 1),
        ("within_days", TriageDecisionKind.BETTER_PHOTOS, None),
        ("see_doctor", TriageDecisionKind.WITHIN_DAYS, None),  # a tier no longer known
    ],
)
def test_agreement_compares_how_soon_each_says_to_act(
    tier: str, kind: TriageDecisionKind, expected: int | None
) -> None:
    assert agreement(tier, kind) == expected


def test_every_tier_of_the_scale_is_a_decision() -> None:
    assert [k.tier for k in TriageDecisionKind if k.tier is not None] == list(AdviceTier)


async def test_report_counts_agreement_and_time_to_decision(database: Database) -> None:
    decisions = [
        ("self_care", TriageDecisionKind.SELF_CARE),
        ("within_2_weeks", TriageDecisionKind.WITHIN_2_WEEKS),
        ("within_days", TriageDecisionKind.SELF_CARE),
        ("self_care", TriageDecisionKind.BETTER_PHOTOS),
    ]
    for n, (tier, kind) in enumerate(decisions):
        _, post_id = await _posted_case(database, PERSON + n, tier)
        await database.run(store.decide, post_id, 1, 0, kind, CLINICIAN, "Dr Grey")
    report = await database.run(triage_report)
    assert report.first_decisions == 4 and report.better_photos == 1
    assert (report.agreed, report.clinician_less_urgent, report.clinician_more_urgent) == (2, 1, 0)
    assert report.by_tier[("within_days", "self_care")] == 1
    assert report.median_wait_s() is not None and report.waiting_now == 0
