"""The result message: ranked conditions with bars, advice, and always the disclaimer."""

from __future__ import annotations

from bot.advice import Advice
from bot.conversation.texts import raw, text
from bot.modelderm.diagnosis import Diagnosis

BAR_CELLS = 12


def percent(probability: float) -> str:
    """A probability as a person reads it: whole percent, never a misleading 0%."""
    value = probability * 100
    if 0 < value < 1:
        return "<1%"
    return f"{value:.0f}%"


def bar(probability: float, cells: int = BAR_CELLS) -> str:
    filled = round(max(0.0, min(1.0, probability)) * cells)
    return "█" * filled + "░" * (cells - filled)


def short_case_id(public_id: str) -> str:
    """Enough of the UUID to recognise a case in a chat; the full id is in the database."""
    return public_id.replace("-", "")[:8]


def render_result(diagnosis: Diagnosis, advice: Advice, public_id: str, top: int = 5) -> str:
    lines = [text("result_title", case=short_case_id(public_id)), ""]
    shown = diagnosis.conditions[:top]
    if shown:
        lines.append(text("result_intro"))
        for rank, condition in enumerate(shown, start=1):
            lines.append(
                text(
                    "result_line",
                    rank=rank,
                    name=condition.name,
                    percent=percent(condition.probability),
                    bar=bar(condition.probability),
                )
            )
    else:
        lines.append(text("result_nothing"))
    if diagnosis.malignancy_output is not None:
        lines.append(text("result_malignancy", value=diagnosis.malignancy_output))
    if diagnosis.photos_analysed is not None:
        lines.append(text("result_photos_used", count=diagnosis.photos_analysed))
    lines += ["", text("advice_title"), text(f"advice_{advice.tier.value}"), ""]
    lines.append(raw("disclaimer"))
    return "\n".join(lines)
