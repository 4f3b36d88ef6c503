"""The result card: the same result as the text, drawn as a picture, sent after the text.

The text stays the primary result: it is what screen readers read, it carries the links and the
"New check" button, and it is sent first so that a card that cannot be drawn or sent never holds
it up or loses it. The card follows with a short caption naming the check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot

from bot.card import CardAdvice, CardRow, render_card_async
from bot.domain.advice import Advice
from bot.domain.diagnosis import Diagnosis
from bot.i18n import current_language
from bot.i18n.texts import text
from bot.views.result import condition_label, percent, short_case_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CardContent:
    """What the card shows, in the current person's language."""

    rows: list[CardRow]
    advice: CardAdvice
    disclaimer: str
    title: str
    language: str


def card_content(diagnosis: Diagnosis, advice: Advice, top: int) -> CardContent:
    language = current_language()
    rows = [
        CardRow(condition_label(c.name)[0], c.probability, percent(c.probability))
        for c in diagnosis.conditions[:top]
    ]
    tier = advice.tier.value
    return CardContent(
        rows,
        CardAdvice(tier, text(f"card_tier_{tier}")),
        text("card_disclaimer"),
        text("card_title"),
        language,
    )


async def render_result_card(photo: bytes, diagnosis: Diagnosis, advice: Advice, top: int) -> bytes:
    """The card PNG in the current person's language, drawn in a worker thread."""
    content = card_content(diagnosis, advice, top)
    return await render_card_async(
        photo,
        content.rows,
        content.advice,
        content.disclaimer,
        title=content.title,
        language=content.language,
    )


async def send_result_card(
    bot: Bot,
    chat_id: int,
    photo: bytes,
    diagnosis: Diagnosis,
    advice: Advice,
    public_id: str,
    top: int,
    *,
    protect: bool = False,
) -> bool:
    """Draw and send the card; False (logged) when that failed: the text result is enough.
    `protect`: PROTECT_RESULTS (no forwarding or saving)."""
    try:
        png = await render_result_card(photo, diagnosis, advice, top)
        caption = text("card_caption", case=short_case_id(public_id))
        await bot.send_photo(chat_id, png, caption=caption, protect_content=protect)
    except Exception:
        log.warning("result card of case %s not sent", public_id, exc_info=True)
        return False
    return True
