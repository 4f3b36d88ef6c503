"""Follow-up checks: when a reminder may be sent, which results offer one, what a follow-up
carries over from the check it follows, and how two checks compare."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.advice import AdviceTier
from bot.domain.questionnaire import Onset, Questionnaire, RecentChange, Severity

# The tiers whose advice is to watch the skin for a while: a reminder to look again fits them.
# Not WITHIN_2_WEEKS (a possible skin cancer or pre-cancer): its advice is to see a doctor within
# two weeks, and a button to be reminded in two weeks would read as permission to wait and see.
REMINDED_TIERS = frozenset({AdviceTier.IF_NO_IMPROVEMENT, AdviceTier.SELF_CARE})

ANY_TIME = (0, 24)

# How long each onset answer means at least; a follow-up moves it on by the time passed.
_AT_LEAST: tuple[tuple[Onset, dt.timedelta], ...] = (
    (Onset.UNDER_A_WEEK, dt.timedelta(0)),
    (Onset.UNDER_A_MONTH, dt.timedelta(days=7)),
    (Onset.UNDER_A_YEAR, dt.timedelta(days=30)),
    (Onset.OVER_A_YEAR_OR_SINCE_BIRTH, dt.timedelta(days=365)),
)


def offers_reminder(tier: AdviceTier) -> bool:
    return tier in REMINDED_TIERS


def within_hours(moment: dt.datetime, hours: tuple[int, int], zone: ZoneInfo) -> dt.datetime:
    """`moment`, or the start of the next daytime window (`hours`, local to `zone`) if it falls
    outside one; an aware UTC datetime either way."""
    first, end = hours
    if (first, end) == ANY_TIME:
        return moment.astimezone(dt.UTC)
    local = moment.astimezone(zone)
    if first <= local.hour < end:
        return moment.astimezone(dt.UTC)
    day = local.date() if local.hour < first else local.date() + dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(first), tzinfo=zone)
    return start.astimezone(dt.UTC)


def moved_on(onset: Onset | None, elapsed: dt.timedelta) -> Onset | None:
    """How long it has been there now, `elapsed` after it was `onset`: the answer whose range
    holds the least it can be now (it was at least that long then, and time has passed)."""
    if onset is None:
        return None
    least = dict(_AT_LEAST)[onset] + max(elapsed, dt.timedelta(0))
    now = onset
    for answer, at_least in _AT_LEAST:
        if least >= at_least:
            now = answer
    return now


def carried_over(earlier: Questionnaire, elapsed: dt.timedelta) -> Questionnaire:
    """A follow-up's answers before any is asked: who it is and where it is stay; itch, pain
    and whether it changed are asked again; the onset moves on by the time passed."""
    return Questionnaire(
        birth_year=earlier.birth_year,
        sex=earlier.sex,
        skin_type=earlier.skin_type,
        body_site=earlier.body_site,
        onset=moved_on(earlier.onset, elapsed),
    )


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """One check as a comparison of two sees it."""

    checked_at: dt.datetime
    tier: AdviceTier
    questionnaire: Questionnaire = dataclasses.field(default_factory=Questionnaire)


class Change(StrEnum):
    """What a comparison says first."""

    MORE_URGENT = "more_urgent"
    ITCH_WORSE = "itch_worse"
    PAIN_WORSE = "pain_worse"
    # The person's answer to "Has it changed lately?" on the follow-up itself.
    BLEEDS = "bleeds"
    GREW_OR_CHANGED = "grew_or_changed"


_SEVERITY_RANK = {Severity.NONE: 0, Severity.MILD_TO_MODERATE: 1, Severity.SEVERE: 2}


def _worse(before: Severity | None, now: Severity | None) -> bool:
    if before is None or now is None:
        return False
    return _SEVERITY_RANK[now] > _SEVERITY_RANK[before]


def changes(earlier: CheckSummary, now: CheckSummary) -> list[Change]:
    """The changes worth saying before anything else: what the person reports (itch or pain
    worse than last time, and a change they report on "has it changed lately?", which comes
    first of all) and a more urgent tier. Never an improvement: a lower score or tier is not
    evidence that the skin got better."""
    found: list[Change] = []
    match now.questionnaire.recent_change:
        case RecentChange.BLEEDS:
            found.append(Change.BLEEDS)
        case RecentChange.GREW_OR_CHANGED:
            found.append(Change.GREW_OR_CHANGED)
    if _worse(earlier.questionnaire.itch, now.questionnaire.itch):
        found.append(Change.ITCH_WORSE)
    if _worse(earlier.questionnaire.pain, now.questionnaire.pain):
        found.append(Change.PAIN_WORSE)
    if now.tier.urgency > earlier.tier.urgency:
        found.append(Change.MORE_URGENT)
    return found
