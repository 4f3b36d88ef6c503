"""The sender's own checks as /history pages them and /export reads them, on SQLite and
PostgreSQL: anchored pages, the code filter, nobody else's checks, no discarded ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.history import HISTORY_PAGE, check_of, code_of, history_page, own_checks
from bot.db.models import Case, CaseStatus, Subject, TriageDecisionKind, TriagePost
from bot.db.users import touch_user
from bot.domain.advice import AdviceRules, AdviceTier
from bot.domain.diagnosis import Condition, Diagnosis

ALICE, BOB = 111, 222
RULES = AdviceRules()
DIAGNOSIS = Diagnosis((Condition("Insect bite", 0.5),), None, None, None)


def _fill(session: Session) -> list[int]:
    """23 checks of Alice's (every 7th of code PT-1, the 4th cancelled, the 9th decided by
    the clinic, the newest still being collected) and 3 of Bob's; Alice's row ids, oldest
    first."""
    now = utcnow()
    alice, bob = touch_user(session, ALICE, "en"), touch_user(session, BOB, "en")
    ids = []
    for n in range(1, 27):
        own = n <= 23
        status = CaseStatus.COMPLETED
        if n == 4:
            status = CaseStatus.CANCELLED
        elif n == 23:
            status = CaseStatus.COLLECTING
        when = now - dt.timedelta(hours=30 - n)
        case = Case(
            user=alice if own else bob,
            status=status,
            subject=Subject.OTHER_WITH_PERMISSION,
            patient_ref="PT-1" if n % 7 == 0 else f"P{n}",
            diagnosis=DIAGNOSIS.to_dict() if status is CaseStatus.COMPLETED else None,
            created_at=when,
            updated_at=when,
            submitted_at=None if status is CaseStatus.COLLECTING else when,
        )
        session.add(case)
        session.flush()
        if n == 9:
            session.add(
                TriagePost(
                    case_id=case.id,
                    advice_tier="self_care",
                    waiting_since=when,
                    queued_at=when,
                    decision=TriageDecisionKind.SELF_CARE,
                )
            )
        if own:
            ids.append(case.id)
    return ids


async def test_pages_are_anchored_and_list_only_the_senders_checks(database: Database) -> None:
    ids = await database.run(_fill)
    listed = [row for n, row in enumerate(ids, start=1) if n != 4][::-1]  # newest first
    assert len(listed) == 22

    first = await database.run(history_page, ALICE, RULES)
    assert [e.row_id for e in first.entries] == listed[:HISTORY_PAGE]
    assert (first.total, first.before, first.newer) == (22, 0, None)
    assert first.older == listed[HISTORY_PAGE]
    assert first.entries[0].status is CaseStatus.COLLECTING and first.entries[0].advice is None
    assert first.entries[1].advice is not None
    assert first.entries[1].advice.tier is AdviceTier.SELF_CARE

    second = await database.run(history_page, ALICE, RULES, top=first.older)
    assert [e.row_id for e in second.entries] == listed[10:20]
    assert (second.before, second.newer) == (10, 0)  # back to the newest page
    third = await database.run(history_page, ALICE, RULES, top=second.older)
    assert [e.row_id for e in third.entries] == listed[20:]
    assert (third.before, third.older) == (20, None)
    assert third.newer == listed[10]  # the top of the page above it

    decided = next(e for e in second.entries if e.row_id == ids[8])
    assert decided.clinic_decision is TriageDecisionKind.SELF_CARE

    # The code filter: PT-1 for the 7th, 14th and 21st, and Bob's 7th-multiple is not Alice's.
    coded = await database.run(history_page, ALICE, RULES, code="PT-1")
    assert [e.row_id for e in coded.entries] == [ids[20], ids[13], ids[6]]
    assert (coded.total, coded.older, coded.newer) == (3, None, None)
    assert await database.run(code_of, ALICE, ids[6]) == "PT-1"
    assert await database.run(code_of, BOB, ids[6]) is None

    # Bob sees none of Alice's checks, not even one asked for by its id.
    bobs = await database.run(history_page, BOB, RULES)
    assert bobs.total == 3 and not {e.row_id for e in bobs.entries} & set(ids)
    assert await database.run(check_of, BOB, ids[0], RULES) is None
    assert await database.run(check_of, ALICE, ids[3], RULES) is None  # cancelled
    shown = await database.run(check_of, ALICE, ids[0], RULES)
    assert shown is not None and shown.patient_ref == "P1"

    everything = await database.run(own_checks, ALICE, RULES)
    assert [e.row_id for e in everything] == listed[::-1]
    assert await database.run(history_page, 999, RULES) == type(first)((), 0, 0, None, None)
