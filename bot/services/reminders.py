"""Follow-up reminders: set at the time asked for, moved into daytime, sent by a repeating job.

The reminder names no condition and no result: a shared phone's lock screen shows it. Sending
follows bot/db/reminders.py (claimed, sent, recorded: at least once, never by two workers at
the same time). A person who blocked the bot, or whose chat is gone, loses the reminder at once;
anything else Telegram refuses is tried again a few times.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from bot.db.base import utcnow
from bot.db.claims import worker_id
from bot.db.database import Database
from bot.db.reminders import DueReminder, ReminderView, claim_due, mark_sent, release, set_reminder
from bot.domain.follow_up import within_hours
from bot.i18n import formatting as fmt
from bot.i18n import speaking
from bot.i18n.texts import text
from bot.views.reminders import check_again_keyboard

log = logging.getLogger(__name__)

_CHAT_GONE = ("chat not found", "user not found", "peer_id_invalid", "bot was kicked")


def _gone(exc: TelegramError) -> bool:
    if isinstance(exc, Forbidden | ChatMigrated):
        return True
    return isinstance(exc, BadRequest) and any(s in exc.message.lower() for s in _CHAT_GONE)


class Reminders:
    """Sets the reminders people ask for and sends those due, within the daytime hours."""

    def __init__(
        self,
        database: Database,
        *,
        choices: tuple[float, ...],
        hours: tuple[int, int],
        zone: ZoneInfo,
        worker: str | None = None,
    ) -> None:
        self.database, self.choices, self.hours, self.zone = database, choices, hours, zone
        self.worker = worker or worker_id()

    def offered(self, days: float) -> bool:
        return any(abs(days - choice) < 1e-9 for choice in self.choices)

    def due_time(self, days: float, now: dt.datetime) -> dt.datetime:
        """When a reminder asked for `days` after `now` is sent: then, or when daytime begins."""
        return within_hours(now + dt.timedelta(days=days), self.hours, self.zone)

    async def set(self, telegram_user_id: int, public_id: uuid.UUID, days: float) -> ReminderView:
        """Set (or keep) the reminder of the person's case; CaseNotFound if it is gone."""
        now = utcnow()
        return await self.database.run(
            set_reminder,
            telegram_user_id,
            public_id,
            after_days=days,
            due_at=self.due_time(days, now),
            now=now,
        )

    async def send_due(self, bot: Bot, *, now: dt.datetime | None = None) -> int:
        """One round of the repeating job: send the reminders due; how many went out."""
        now = now or utcnow()
        if within_hours(now, self.hours, self.zone) != now.astimezone(dt.UTC):
            # Night where the people are (the bot was down at the time, or the hours changed):
            # whatever is due waits for the morning.
            return 0
        claimed = await self.database.run(claim_due, self.worker, now=now)
        sent = 0
        for due in claimed:
            try:
                sent += await self._send(bot, due)
            except Exception:
                # The others of this round still get their turn; the claim lapses.
                log.exception("reminder %d not sent", due.id)
        return sent

    async def _send(self, bot: Bot, due: DueReminder) -> int:
        with speaking(due.language):
            body = text("reminder_message", date=fmt.date(due.checked_at, self.zone))
            keyboard = check_again_keyboard(due.case_public_id)
        try:
            await bot.send_message(due.chat_id, body, reply_markup=keyboard)
        except TelegramError as exc:
            gone = _gone(exc)
            log.warning(
                "reminder %d not sent (try %d): %s%s",
                due.id,
                due.attempts,
                exc,
                "; dropped" if gone else "",
            )
            await self.database.run(release, due.id, give_up=gone)
            return 0
        await self.database.run(mark_sent, due.id, self.worker)
        return 1
