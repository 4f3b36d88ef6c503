"""Triage button payloads: `t|<action>|<post id>|<round>|<decisions seen>` (under 64 bytes).

The round and the number of decisions the card showed make a press on an older view of a card
(or a second clinician pressing at the same moment) recognisable: it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.models import TriageDecisionKind

PREFIX = "t"
PATTERN = r"^t\|"
CHANGE = "c"
NEW_PHOTOS = "n"

# "r" and "u" were "Routine appointment" and "Urgent: within 2 weeks" on cards posted before
# the five-tier scale: a press on such a card still decides what migration 0011 made of them.
DECISION_CODES: dict[str, TriageDecisionKind] = {
    "e": TriageDecisionKind.URGENT_CARE,
    "d": TriageDecisionKind.WITHIN_DAYS,
    "u": TriageDecisionKind.WITHIN_2_WEEKS,
    "r": TriageDecisionKind.IF_NO_IMPROVEMENT,
    "s": TriageDecisionKind.SELF_CARE,
    "p": TriageDecisionKind.BETTER_PHOTOS,
}
CODE_OF = {kind: code for code, kind in DECISION_CODES.items()}


@dataclass(frozen=True, slots=True)
class TriageButton:
    action: str
    post_id: int
    round: int
    seen: int

    def encode(self) -> str:
        data = "|".join((PREFIX, self.action, str(self.post_id), str(self.round), str(self.seen)))
        assert len(data.encode()) <= 64, data
        return data

    @property
    def decision(self) -> TriageDecisionKind | None:
        return DECISION_CODES.get(self.action)


def decode(data: str | None) -> TriageButton | None:
    parts = (data or "").split("|")
    if len(parts) != 5 or parts[0] != PREFIX:
        return None
    if parts[1] not in (*DECISION_CODES, CHANGE, NEW_PHOTOS):
        return None
    try:
        return TriageButton(parts[1], int(parts[2]), int(parts[3]), int(parts[4]))
    except ValueError:
        return None
