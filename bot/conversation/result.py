"""The result message: ranked conditions with bars, advice, and always the disclaimer."""

from __future__ import annotations

import html

from bot.advice import Advice
from bot.conversation.texts import raw, text
from bot.i18n import current_language
from bot.i18n import formatting as fmt
from bot.i18n.conditions import display_name, info_url
from bot.modelderm.diagnosis import Condition, Diagnosis

BAR_CELLS = 12


def percent(probability: float) -> str:
    """A probability as a person reads it, in their language: whole percent, never 0% or 100%
    for a value that is neither ("27%", Spanish "27 %")."""
    return fmt.percent(probability)


def bar(probability: float, cells: int = BAR_CELLS) -> str:
    filled = round(max(0.0, min(1.0, probability)) * cells)
    return "█" * filled + "░" * (cells - filled)


def short_case_id(public_id: str) -> str:
    """Enough of the UUID to recognise a case in a chat; the full id is in the database."""
    return public_id.replace("-", "")[:8]


def condition_html(condition: Condition) -> tuple[str, bool]:
    """The condition's name in the person's language, linked to a page about it when known."""
    language = current_language()
    name = html.escape(display_name(condition.name, language), quote=False)
    url = info_url(condition.name, language)
    if url is None:
        return name, False
    return f'<a href="{html.escape(url, quote=True)}">{name}</a>', True


def render_result(diagnosis: Diagnosis, advice: Advice, public_id: str, top: int = 5) -> str:
    lines = [text("result_title", case=short_case_id(public_id)), ""]
    shown = diagnosis.conditions[:top]
    linked = False
    if shown:
        lines.append(text("result_intro"))
        for rank, condition in enumerate(shown, start=1):
            name, has_link = condition_html(condition)
            linked = linked or has_link
            lines.append(
                raw(
                    "result_line",
                    rank=rank,
                    name=name,
                    percent=html.escape(percent(condition.probability), quote=False),
                    bar=bar(condition.probability),
                )
            )
        if linked:
            lines.append(text("result_links"))
    else:
        lines.append(text("result_nothing"))
    if diagnosis.malignancy_output is not None:
        lines.append(text("result_malignancy", value=diagnosis.malignancy_output))
    if diagnosis.photos_analysed is not None:
        lines.append(text("result_photos_used", count=diagnosis.photos_analysed))
    lines += ["", text("advice_title"), text(f"advice_{advice.tier.value}"), ""]
    lines.append(raw("disclaimer"))
    return "\n".join(lines)
