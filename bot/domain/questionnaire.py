"""The questionnaire a person answers about their skin problem; every answer is optional.

Values use the Model Dermatology API's own codes (see `bot/modelderm/protocol.py`), so the same
object is stored on a case, shown back to the person and encoded for the API; `recent_change`,
which the API has no tag for, is stored and shown but never encoded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

OLDEST_BIRTH_YEAR = 1900


class Sex(StrEnum):
    MALE = "m"
    FEMALE = "f"


class Severity(StrEnum):
    """Itch or pain, in the API's codes."""

    NONE = "x"
    MILD_TO_MODERATE = "o"
    SEVERE = "v"


class Onset(StrEnum):
    """How long the problem has been there, in the API's codes."""

    UNDER_A_WEEK = "d"
    UNDER_A_MONTH = "w"
    UNDER_A_YEAR = "m"
    OVER_A_YEAR_OR_SINCE_BIRTH = "y"


class RecentChange(StrEnum):
    """The person's answer to "Has it changed lately?"; the API has no tag for it, so it is
    kept on the case and never sent."""

    BLEEDS = "bleeds"
    GREW_OR_CHANGED = "grew_or_changed"
    NO_CHANGE = "no_change"


def youngest_birth_year() -> int:
    return dt.date.today().year


@dataclass(frozen=True, slots=True)
class Questionnaire:
    birth_year: int | None = None
    sex: Sex | None = None
    # Fitzpatrick skin type, 1 (always burns) to 6 (never burns).
    skin_type: int | None = None
    body_site: str | None = None
    itch: Severity | None = None
    pain: Severity | None = None
    onset: Onset | None = None
    recent_change: RecentChange | None = None

    def __post_init__(self) -> None:
        if self.skin_type is not None and not 1 <= self.skin_type <= 6:
            raise ValueError(f"skin type must be 1 to 6, not {self.skin_type}")
        if self.birth_year is not None and not (
            OLDEST_BIRTH_YEAR <= self.birth_year <= youngest_birth_year()
        ):
            raise ValueError(
                f"year of birth must be between {OLDEST_BIRTH_YEAR} and "
                f"{youngest_birth_year()}, not {self.birth_year}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (enum codes as strings), for storage."""
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Questionnaire:
        def enum(kind: type[StrEnum], value: Any) -> Any:
            return None if value in (None, "") else kind(value)

        return cls(
            birth_year=data.get("birth_year"),
            sex=enum(Sex, data.get("sex")),
            skin_type=data.get("skin_type"),
            body_site=data.get("body_site"),
            itch=enum(Severity, data.get("itch")),
            pain=enum(Severity, data.get("pain")),
            onset=enum(Onset, data.get("onset")),
            recent_change=enum(RecentChange, data.get("recent_change")),
        )
