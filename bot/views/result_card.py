"""The result card: the same result as the text, drawn as a picture, sent after the text.

The text stays the primary result: it is what screen readers read, it carries the links and the
buttons, and it is sent first so that a card that cannot be drawn or sent never holds it up or
loses it. The card follows as the next message, with a caption naming the check (its date, the
patient's code, its id) so it can be told apart once forwarded; the disclaimer is on the card.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot

from bot.card import CardRow, CardText, render_card_async
from bot.card.layout import MAX_ROWS
from bot.domain.result import CaseResult
from bot.i18n import current_language
from bot.i18n import formatting as fmt
from bot.i18n.limits import clean_label
from bot.i18n.texts import raw, text
from bot.views.result import condition_label, short_case_id

log = logging.getLogger(__name__)


def _short_id(result: CaseResult) -> str:
    return short_case_id(str(result.public_id))


def card_name(name: str) -> str:
    """A condition's plain name in the current language, or the AI's own label (cleaned, cut
    short, in quotation marks) when the bot does not know the condition."""
    return condition_label(name, "card_ai_label")[0]


def _patient(result: CaseResult) -> str | None:
    code = clean_label(result.patient_ref or "")
    return code or None


def card_text(result: CaseResult, top: int, zone: dt.tzinfo) -> CardText:
    """What the card says, in the current person's language."""
    rows = [
        CardRow(card_name(c.name), c.probability, fmt.percent(c.probability))
        for c in result.diagnosis.conditions[: min(top, MAX_ROWS)]
    ]
    tier = result.advice.tier.value
    date = fmt.date(result.checked_at, zone)
    patient = _patient(result)
    # Drawn, not parsed as HTML: `raw`, so the values go in as they are.
    if patient is None:
        footer = raw("card_footer", date=date, case=_short_id(result))
    else:
        footer = raw("card_footer_patient", date=date, case=_short_id(result), patient=patient)
    return CardText(
        tier=tier,
        tier_label=text(f"card_tier_{tier}"),
        heading=text("card_title"),
        rows=rows,
        nothing=text("card_nothing"),
        footer=footer,
        disclaimer=text("card_disclaimer"),
    )


def card_caption(result: CaseResult, zone: dt.tzinfo) -> str:
    """The card's caption (HTML): which check it shows."""
    date = fmt.date(result.checked_at, zone)
    patient = _patient(result)
    if patient is None:
        return text("card_caption", date=date, case=_short_id(result))
    return text("card_caption_patient", date=date, case=_short_id(result), patient=patient)


async def render_result_card(result: CaseResult, photo: bytes, top: int, zone: dt.tzinfo) -> bytes:
    """The card PNG in the current person's language, drawn in a worker thread."""
    return await render_card_async(photo, card_text(result, top, zone), language=current_language())


async def send_result_card(
    bot: Bot,
    chat_id: int,
    result: CaseResult,
    photo: bytes,
    top: int,
    *,
    zone: dt.tzinfo = dt.UTC,
    protect: bool = False,
) -> bool:
    """Draw and send the card; False (logged) when that failed: the text result is enough.

    `zone`: the deployment's time zone (TIMEZONE) the check's date is written in; `protect`:
    Telegram's protect_content (the card cannot be forwarded or saved)."""
    try:
        png = await render_result_card(result, photo, top, zone)
        await bot.send_photo(
            chat_id, png, caption=card_caption(result, zone), protect_content=protect
        )
    except Exception:
        log.warning("result card of case %s not sent", result.public_id, exc_info=True)
        return False
    return True
