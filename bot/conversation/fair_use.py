"""Refusing a check kindly when the person has reached a fair-use limit."""

from __future__ import annotations

from bot.conversation.common import BotContext, open_view
from bot.conversation.display import show_below
from bot.db.fair_use import limit_reached
from bot.views.fair_use import limit_text


async def refuse_if_over_limit(
    context: BotContext, chat_id: int, telegram_user_id: int, *, at_submission: bool
) -> bool:
    """Tell the person kindly and return True when they have reached a limit."""
    reached = await context.services.database.run(
        limit_reached, telegram_user_id, context.services.settings
    )
    if reached is None:
        return False
    body = limit_text(reached, at_submission=at_submission)
    if at_submission:
        # The summary's buttons were taken away by the press: show it again, to press later.
        view = await context.services.database.run(open_view, telegram_user_id)
        if view is not None:
            await show_below(context, chat_id, view, before=body)
            return True
    await context.bot.send_message(chat_id, body)
    return True
