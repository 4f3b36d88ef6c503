"""A follow-up's result set beside the check it follows: what changed first, then both advices.

A lower tier or score is never worded as "better": the AI sees photos, not healing, and an
estimate that moved can be the light or the angle. Only a change the person reports, or more
urgent advice, is said first.
"""

from __future__ import annotations

import datetime as dt

from bot.domain.follow_up import CheckSummary, changes
from bot.i18n import formatting as fmt
from bot.i18n.texts import text


def comparison_lines(earlier: CheckSummary, now: CheckSummary, zone: dt.tzinfo) -> list[str]:
    """The lines that set a follow-up's result beside the earlier check ("14 Nov: Watch it ·
    today: …"), what changed first; dates in the deployment's time zone."""
    lines = [text(f"follow_up_{change.value}") for change in changes(earlier, now)]
    lines.append(
        text(
            "follow_up_side_by_side",
            date=fmt.date(earlier.checked_at, zone),
            before=text(f"follow_up_tier_{earlier.tier.value}"),
            now=text(f"follow_up_tier_{now.tier.value}"),
        )
    )
    if now.tier.urgency == earlier.tier.urgency:
        lines.append(text("follow_up_same_advice"))
    elif now.tier.urgency < earlier.tier.urgency:
        lines.append(text("follow_up_less_urgent"))
    return lines
