"""Follow-ups without the bot: the daytime window of reminders, what a follow-up carries over, how
two checks compare (never "better"), the reminder buttons, and their settings."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.advice import Advice, AdviceTier
from bot.domain.diagnosis import Diagnosis
from bot.domain.follow_up import CheckSummary, carried_over, moved_on, within_hours
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.domain.result import CaseResult
from bot.domain.steps import Step, step_after
from bot.i18n import SUPPORTED, speaking
from bot.i18n.texts import text
from bot.views.follow_up import comparison_lines
from bot.views.keyboards import result_keyboard
from bot.views.reminders import period

SEOUL = ZoneInfo("Asia/Seoul")
DAYTIME = (9, 20)


def seoul(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        (seoul(3, 10, 30), seoul(3, 10, 30)),  # daytime: as asked
        (seoul(3, 9, 0), seoul(3, 9, 0)),  # the window's first minute
        (seoul(3, 19, 59), seoul(3, 19, 59)),
        (seoul(3, 20, 0), seoul(4, 9, 0)),  # evening: the next morning
        (seoul(3, 23, 45), seoul(4, 9, 0)),
        (seoul(4, 2, 10), seoul(4, 9, 0)),  # night: this morning
        (seoul(4, 8, 59), seoul(4, 9, 0)),
    ],
)
def test_a_reminder_outside_the_hours_waits_for_the_next_window_in_the_time_zone(
    asked: dt.datetime, sent: dt.datetime
) -> None:
    # Given in UTC, as stored: 23:45 in Seoul is 14:45 UTC, daytime in UTC.
    moment = within_hours(asked.astimezone(dt.UTC), DAYTIME, SEOUL)
    assert moment == sent
    assert moment.tzinfo == dt.UTC


def test_any_time_sends_as_asked() -> None:
    night = seoul(3, 3, 0).astimezone(dt.UTC)
    assert within_hours(night, (0, 24), SEOUL) == night


def test_the_reminder_asked_at_night_for_two_weeks_comes_on_that_morning() -> None:
    from bot.services.reminders import Reminders

    reminders = Reminders(None, choices=(14.0, 28.0), hours=DAYTIME, zone=SEOUL)  # type: ignore[arg-type]
    pressed = seoul(1, 22, 30).astimezone(dt.UTC)
    assert reminders.due_time(14, pressed) == seoul(16, 9, 0)
    assert reminders.offered(28) and not reminders.offered(21)


async def test_no_reminder_goes_out_at_night_even_when_due() -> None:
    """The job's round at night sends nothing (it does not even claim): the bot may have been
    down when they fell due, and a reminder at 3 a.m. would wake someone."""
    from bot.services.reminders import Reminders

    class NoDatabase:
        async def run(self, *args: object, **kwargs: object) -> object:
            raise AssertionError("a round at night claims nothing")

    reminders = Reminders(NoDatabase(), choices=(14.0,), hours=DAYTIME, zone=SEOUL)  # type: ignore[arg-type]
    assert await reminders.send_due(None, now=seoul(3, 3, 0).astimezone(dt.UTC)) == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("onset", "elapsed_days", "now"),
    [
        (Onset.UNDER_A_WEEK, 14, Onset.UNDER_A_MONTH),
        (Onset.UNDER_A_WEEK, 3, Onset.UNDER_A_WEEK),
        (Onset.UNDER_A_MONTH, 14, Onset.UNDER_A_MONTH),
        (Onset.UNDER_A_MONTH, 28, Onset.UNDER_A_YEAR),
        (Onset.UNDER_A_YEAR, 28, Onset.UNDER_A_YEAR),
        (Onset.OVER_A_YEAR_OR_SINCE_BIRTH, 28, Onset.OVER_A_YEAR_OR_SINCE_BIRTH),
        (None, 28, None),
    ],
)
def test_how_long_it_has_been_there_moves_on_by_the_time_passed(
    onset: Onset | None, elapsed_days: int, now: Onset | None
) -> None:
    assert moved_on(onset, dt.timedelta(days=elapsed_days)) is now


def test_a_follow_up_keeps_who_and_where_and_asks_itch_and_pain_again() -> None:
    earlier = Questionnaire(
        1970, Sex.MALE, 2, "back", Severity.SEVERE, Severity.NONE, Onset.UNDER_A_WEEK
    )
    carried = carried_over(earlier, dt.timedelta(days=14))
    assert carried == Questionnaire(1970, Sex.MALE, 2, "back", None, None, Onset.UNDER_A_MONTH)
    # After its photos a follow-up asks only what may have changed, then the summary.
    step, asked = Step.PHOTOS, []
    while (step := step_after(step, editing=False, follow_up=True)) is not Step.SUMMARY:
        asked.append(step)
    assert asked == [Step.ITCH, Step.PAIN, Step.RECENT_CHANGE]
    assert step_after(Step.PHOTOS, editing=False) is Step.BIRTH_YEAR


NOV_14 = dt.datetime(2026, 11, 14, 10, tzinfo=dt.UTC)
TODAY = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)


def summary(tier: AdviceTier, at: dt.datetime = NOV_14, **answers: object) -> CheckSummary:
    return CheckSummary(at, tier, Questionnaire(**answers))  # type: ignore[arg-type]


def test_the_comparison_sets_both_checks_side_by_side() -> None:
    lines = comparison_lines(
        summary(AdviceTier.SELF_CARE), summary(AdviceTier.SELF_CARE, TODAY), dt.UTC
    )
    assert lines == [
        "🔁 14 Nov 2026: Watch it · today: Watch it",
        "The advice is the same as last time.",
    ]


def test_a_reported_change_and_a_more_urgent_tier_are_said_first() -> None:
    earlier = summary(AdviceTier.IF_NO_IMPROVEMENT, itch=Severity.NONE, pain=Severity.NONE)
    now = summary(AdviceTier.WITHIN_DAYS, TODAY, itch=Severity.SEVERE, pain=Severity.NONE)
    lines = comparison_lines(earlier, now, dt.UTC)
    assert lines == [
        "⚠️ You said it itches more than last time.",
        "⚠️ <b>The advice is more urgent than last time.</b>",
        "🔁 14 Nov 2026: See a doctor if it does not improve · today: See a doctor within days",
    ]


@pytest.mark.parametrize("language", SUPPORTED)
def test_a_lower_tier_is_never_worded_as_better(language: str) -> None:
    better = {"en": "better", "ko": "좋아", "es": "mejor"}
    with speaking(language):
        lines = comparison_lines(
            summary(AdviceTier.WITHIN_2_WEEKS, itch=Severity.SEVERE),
            summary(AdviceTier.SELF_CARE, TODAY, itch=Severity.NONE),
            dt.UTC,
        )
        assert lines[-1] == text("follow_up_less_urgent")
    assert len(lines) == 2  # less itch is not said first, nor at all
    assert not any(better[language] in line.lower() for line in lines), lines


def _result(tier: AdviceTier) -> CaseResult:
    nothing = Diagnosis(conditions=(), malignancy_output=None, meta_used=True, photos_analysed=1)
    return CaseResult(
        uuid.uuid4(),
        1,
        "en",
        nothing,
        Advice(tier),
        False,
        questionnaire=Questionnaire(),
        patient_ref=None,
        checked_at=TODAY,
    )


@pytest.mark.parametrize("tier", list(AdviceTier))
def test_only_the_watch_it_tiers_offer_a_reminder(tier: AdviceTier) -> None:
    labels = [
        b.text
        for row in result_keyboard(_result(tier), reminders=(14, 28)).inline_keyboard
        for b in row
    ]
    if tier in (AdviceTier.IF_NO_IMPROVEMENT, AdviceTier.SELF_CARE):
        assert labels == ["📅 Remind me in 2 weeks", "📅 Remind me in 4 weeks", "➕ New check"]
    else:
        assert labels == ["➕ New check"]


def test_button_labels_say_the_period_the_setting_gives() -> None:
    assert [period(d) for d in (7, 14, 3, 1, 1.5, 0.25, 0.0005)] == [
        "1 week",
        "2 weeks",
        "3 days",
        "1 day",
        "36 hours",
        "6 hours",
        "1 minute",
    ]
    with speaking("es"):
        assert period(14) == "2 semanas"
    with speaking("ko"):
        assert period(28) == "4주"


def test_follow_up_settings_are_read_and_checked_against_retention() -> None:
    settings = load_settings(follow_up_after_days="28, 14,0.5", reminder_hours="0-24")
    assert settings.follow_up_after_days == [0.5, 14.0, 28.0]
    assert settings.reminder_window == (0, 24)
    assert load_settings().reminder_window == (9, 20)
    with pytest.raises(ConfigError) as caught:
        load_settings(retention_days=30, follow_up_after_days="14,30")
    assert str(caught.value) == (
        "The setting FOLLOW_UP_AFTER_DAYS is invalid: every reminder must come before the check "
        "is deleted, so each must be shorter than RETENTION_DAYS (30), and 30 is not."
    )
    for hours in ("20-9", "9", "9-25", "nine-five"):
        with pytest.raises(ConfigError, match="REMINDER_HOURS"):
            load_settings(reminder_hours=hours)
