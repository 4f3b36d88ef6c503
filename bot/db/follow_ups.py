"""Follow-up checks: a new case linked to the earlier one, its answers carried over."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bot.db.base import utcnow
from bot.db.cases import create_case
from bot.db.models import Case, CaseStatus, User
from bot.db.reminders import checked_at
from bot.domain.diagnosis import Diagnosis
from bot.domain.follow_up import carried_over
from bot.domain.questionnaire import Questionnaire
from bot.domain.steps import Step


@dataclass(frozen=True, slots=True)
class Earlier:
    """The check a follow-up follows, as its comparison needs it."""

    checked_at: dt.datetime
    diagnosis: Diagnosis
    questionnaire: Questionnaire


@dataclass(frozen=True, slots=True)
class FollowUpPair:
    """A follow-up check with the one it follows: what its result compares."""

    earlier: Earlier
    checked_at: dt.datetime
    questionnaire: Questionnaire


def earlier_case(session: Session, telegram_user_id: int, public_id: uuid.UUID) -> Case | None:
    """The person's completed case `public_id`, the one a follow-up would follow."""
    return session.scalar(
        select(Case)
        .join(Case.user)
        .where(
            Case.public_id == public_id,
            User.telegram_user_id == telegram_user_id,
            Case.status == CaseStatus.COMPLETED,
        )
    )


def create_follow_up(
    session: Session,
    earlier: Case,
    *,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """A new collecting case following `earlier` up, at its photos: the same person or patient,
    the answers that stay carried over (bot/domain/follow_up.py). CaseAlreadyOpen if the person
    is collecting another case."""
    now = now or utcnow()
    case = create_case(
        session,
        earlier.telegram_user_id,
        language=language,
        subject=earlier.subject,
        patient_ref=earlier.patient_ref,
        now=now,
    )
    case.follow_up_of = earlier.id
    case.answers = carried_over(earlier.questionnaire, now - checked_at(earlier)).to_dict()
    case.step = Step.PHOTOS
    session.flush()
    return case


def follows_up(case: Case, earlier_public_id: uuid.UUID, session: Session) -> bool:
    """Whether `case` is a follow-up of the case `earlier_public_id`."""
    if case.follow_up_of is None:
        return False
    return session.scalar(select(Case.public_id).where(Case.id == case.follow_up_of)) == (
        earlier_public_id
    )


def follow_up_pair(session: Session, public_id: uuid.UUID) -> FollowUpPair | None:
    """The case with the completed check it follows up, or None if it follows none (any more)."""
    before = aliased(Case)
    found = session.execute(
        select(Case, before)
        .join(before, Case.follow_up_of == before.id)
        .where(Case.public_id == public_id)
    ).first()
    if found is None:
        return None
    case, earlier = found
    if earlier.result is None:
        return None
    return FollowUpPair(
        earlier=Earlier(checked_at(earlier), earlier.result, earlier.questionnaire),
        checked_at=checked_at(case),
        questionnaire=case.questionnaire,
    )
