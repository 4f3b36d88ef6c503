"""The sender's own checks, as /history lists them and /export writes them.

A page is anchored at its newest check's row id (`top`): the ten checks at or below it, newest
first. Anchors stay valid while checks come and go, so the "older" and "newer" buttons of an old
list still show a page; ids only ever grow, so the order is the order the checks were started.
A list filtered by patient code names the code by one of its checks (`code_of`): a button
cannot carry a code of up to 24 characters of any script within Telegram's 64 bytes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, raiseload

from bot.db.models import Case, CaseStatus, TriageDecisionKind, TriagePost, User
from bot.domain.advice import Advice, AdviceRules, advise
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Questionnaire

HISTORY_PAGE = 10


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """One check of the sender's, read once (no database behind it)."""

    row_id: int
    public_id: uuid.UUID
    # When it was sent (when started, for a check not sent yet).
    checked_at: dt.datetime
    status: CaseStatus
    # Completed, but the result never reached the chat.
    undelivered: bool
    patient_ref: str | None
    questionnaire: Questionnaire
    diagnosis: Diagnosis | None
    advice: Advice | None
    clinic_decision: TriageDecisionKind | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: tuple[CheckEntry, ...]
    # Checks in the whole list, and those newer than this page (so it is "11-20 of 25").
    total: int
    before: int
    # The anchors of the neighbouring pages (None: there is none); 0 is the newest page.
    newer: int | None
    older: int | None
    # The code the list is filtered by, if any.
    code: str | None = None


def advice_of(diagnosis: Diagnosis, questionnaire: Questionnaire, rules: AdviceRules) -> Advice:
    """The advice a stored check was given, worked out again from its diagnosis and answers
    (the one place /history and /export ask for it)."""
    return advise(diagnosis, questionnaire, rules)


def _entry(case: Case, decision: TriageDecisionKind | None, rules: AdviceRules) -> CheckEntry:
    diagnosis = case.result
    questionnaire = case.questionnaire
    return CheckEntry(
        row_id=case.id,
        public_id=case.public_id,
        checked_at=case.submitted_at or case.created_at,
        status=case.status,
        undelivered=case.delivery_given_up_at is not None and case.delivered_at is None,
        patient_ref=case.patient_ref,
        questionnaire=questionnaire,
        diagnosis=diagnosis,
        advice=None if diagnosis is None else advice_of(diagnosis, questionnaire, rules),
        clinic_decision=decision,
    )


def _person(session: Session, telegram_user_id: int) -> int | None:
    return session.scalar(select(User.id).where(User.telegram_user_id == telegram_user_id))


def _listed(user_id: int, code: str | None) -> list[ColumnElement[bool]]:
    # A cancelled check was discarded by the person: nothing of it is kept to show.
    where = [Case.user_id == user_id, Case.status != CaseStatus.CANCELLED]
    if code is not None:
        where.append(Case.patient_ref == code)
    return where


def _with_decision(
    where: list[ColumnElement[bool]],
) -> Select[Case, TriageDecisionKind | None]:
    return (
        select(Case, TriagePost.decision)
        .outerjoin(TriagePost, TriagePost.case_id == Case.id)
        .where(*where)
        .options(raiseload(Case.photos))
    )


def code_of(session: Session, telegram_user_id: int, row_id: int) -> str | None:
    """The patient code of the sender's check `row_id`: a filtered list's code; None when that
    check is gone (purged, erased) or has none."""
    user_id = _person(session, telegram_user_id)
    if user_id is None:
        return None
    return session.scalar(
        select(Case.patient_ref).where(Case.id == row_id, *_listed(user_id, None))
    )


def history_page(
    session: Session,
    telegram_user_id: int,
    rules: AdviceRules,
    *,
    top: int = 0,
    code: str | None = None,
) -> HistoryPage:
    """The page of the sender's checks at or below the anchor `top` (0: the newest), only
    those with patient code `code` if given."""
    user_id = _person(session, telegram_user_id)
    if user_id is None:
        return HistoryPage((), 0, 0, None, None, code)
    where = _listed(user_id, code)
    page = _with_decision([*where, Case.id <= top] if top else where)
    rows = list(session.execute(page.order_by(Case.id.desc()).limit(HISTORY_PAGE + 1)))
    entries = tuple(_entry(case, decision, rules) for case, decision in rows[:HISTORY_PAGE])
    older = rows[HISTORY_PAGE][0].id if len(rows) > HISTORY_PAGE else None
    total = session.scalar(select(func.count(Case.id)).where(*where)) or 0
    newer: int | None = None
    before = 0
    if entries:
        above = [*where, Case.id > entries[0].row_id]
        newer_ids = list(
            session.scalars(select(Case.id).where(*above).order_by(Case.id).limit(HISTORY_PAGE + 1))
        )
        if newer_ids:
            # The page just above, or the newest page (0) when that is the one.
            newer = newer_ids[HISTORY_PAGE - 1] if len(newer_ids) > HISTORY_PAGE else 0
            before = session.scalar(select(func.count(Case.id)).where(*above)) or 0
    return HistoryPage(entries, total, before, newer, older, code)


def check_of(
    session: Session, telegram_user_id: int, row_id: int, rules: AdviceRules
) -> CheckEntry | None:
    """The sender's check `row_id`, or None when it is not theirs or is gone."""
    user_id = _person(session, telegram_user_id)
    if user_id is None:
        return None
    row = session.execute(_with_decision([Case.id == row_id, *_listed(user_id, None)])).first()
    return None if row is None else _entry(row[0], row[1], rules)


def own_checks(session: Session, telegram_user_id: int, rules: AdviceRules) -> list[CheckEntry]:
    """Every check of the sender's, oldest first (the person's own export)."""
    user_id = _person(session, telegram_user_id)
    if user_id is None:
        return []
    query = _with_decision(_listed(user_id, None)).order_by(Case.id)
    return [_entry(case, decision, rules) for case, decision in session.execute(query)]
