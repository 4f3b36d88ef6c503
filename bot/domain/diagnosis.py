"""What the Model Dermatology API concluded about one case, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Condition:
    """One ranked output: the model's English name and its probability (0..1)."""

    name: str
    probability: float


@dataclass(frozen=True, slots=True)
class Diagnosis:
    # Most likely first, as the server ranked them.
    conditions: tuple[Condition, ...]
    # Integer whose scale is undocumented; absent from some answers.
    malignancy_output: int | None
    meta_used: bool | None
    photos_analysed: int | None
    # The metadata as the server understood it (`race`, `sex`, `age`, `loc`, ...), raw strings.
    echoed_metadata: dict[str, str] = field(default_factory=dict)
    server: str = ""
    latency_s: float = 0.0
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for storage and `diagnose --json`."""
        return {
            "conditions": [{"name": c.name, "probability": c.probability} for c in self.conditions],
            "malignancy_output": self.malignancy_output,
            "meta_used": self.meta_used,
            "photos_analysed": self.photos_analysed,
            "echoed_metadata": dict(self.echoed_metadata),
            "server": self.server,
            "latency_s": self.latency_s,
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnosis:
        return cls(
            conditions=tuple(
                Condition(str(c["name"]), float(c["probability"])) for c in data["conditions"]
            ),
            malignancy_output=data.get("malignancy_output"),
            meta_used=data.get("meta_used"),
            photos_analysed=data.get("photos_analysed"),
            echoed_metadata=dict(data.get("echoed_metadata") or {}),
            server=str(data.get("server", "")),
            latency_s=float(data.get("latency_s", 0.0)),
            attempts=int(data.get("attempts", 1)),
        )
