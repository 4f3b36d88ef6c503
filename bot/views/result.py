"""The result message: ranked conditions with bars, advice, and always the disclaimer.

It always fits in one Telegram message: every name the API supplied is cleaned and cut short
(bot/i18n/limits.py), and if the whole were still too long the lowest-ranked conditions would be
left out rather than the message refused. A name the bot has no translation for is shown in
quotation marks, with a line saying they are the AI's own labels: text the API sends ("You are
healthy") must never read as the bot's own statement.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.domain.advice import Advice
from bot.domain.diagnosis import Condition, Diagnosis
from bot.i18n import current_language
from bot.i18n import formatting as fmt
from bot.i18n.conditions import info_url, translated_name
from bot.i18n.limits import TEXT_MAX_UTF16, display_label, trim_label, visible_length
from bot.i18n.texts import raw, text

BAR_CELLS = 12
# Room left in the message for what deliver() (bot/services/delivery.py) puts around the
# result: the late result's intro and the clinic's note. A test checks that they fit in it in
# every language.
ROOM_AROUND_RESULT = 512
RESULT_MAX_UTF16 = TEXT_MAX_UTF16 - ROOM_AROUND_RESULT


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


def condition_label(name: str) -> tuple[str, bool]:
    """A condition's name as the current person reads it (plain text), and whether the bot
    knows the condition: its translation if so, else the AI's label, cleaned, cut short and in
    quotation marks."""
    known = translated_name(name, current_language())
    if known is not None:
        return trim_label(known), True
    return raw("result_ai_label", name=display_label(name)), False


def condition_html(condition: Condition) -> tuple[str, bool, bool]:
    """The condition's name as HTML, linked to a page about it when there is one; whether it
    is linked, and whether it is the AI's own label (not one the bot knows)."""
    label, known = condition_label(condition.name)
    name = html.escape(label, quote=False)
    url = info_url(condition.name, current_language())
    if url is None:
        return name, False, not known
    return f'<a href="{html.escape(url, quote=True)}">{name}</a>', True, not known


def render_result(
    diagnosis: Diagnosis,
    advice: Advice,
    public_id: str,
    top: int = 5,
    comparison: Sequence[str] = (),
) -> str:
    """The result text, at most RESULT_MAX_UTF16 long as Telegram counts it. `comparison`: a
    follow-up's lines beside the check it follows (bot/views/follow_up.py), under the title."""
    shown = list(diagnosis.conditions[:top])
    while True:
        body = _render(diagnosis, shown, advice, public_id, comparison)
        # Cannot happen with names cut short; a last resort that drops, never fails.
        if visible_length(body) <= RESULT_MAX_UTF16 or not shown:
            return body
        shown.pop()


def _render(
    diagnosis: Diagnosis,
    shown: Sequence[Condition],
    advice: Advice,
    public_id: str,
    comparison: Sequence[str],
) -> str:
    lines = [text("result_title", case=short_case_id(public_id)), ""]
    lines += [*comparison, ""] if comparison else []
    linked = quoted = False
    if shown:
        lines.append(text("result_intro"))
        for rank, condition in enumerate(shown, start=1):
            name, has_link, is_label = condition_html(condition)
            linked, quoted = linked or has_link, quoted or is_label
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
        if quoted:
            lines.append(text("result_ai_labels"))
    else:
        lines.append(text("result_nothing"))
    if diagnosis.malignancy_output is not None:
        lines.append(text("result_malignancy", value=diagnosis.malignancy_output))
    if diagnosis.photos_analysed is not None:
        lines.append(text("result_photos_used", count=diagnosis.photos_analysed))
    lines += ["", text("advice_title"), text(f"advice_{advice.tier.value}"), ""]
    lines.append(raw("disclaimer"))
    return "\n".join(lines)
