"""Fair use of a free, shared API: per-person limits and a queue in front of the API.

Limits count the checks a person sent in the last hour and the last day, from the fair-use marks
in the database (bot/db/fair_use.py), so neither a restart nor /delete resets them. The queue lets
at most API_CONCURRENCY diagnose calls run at once; people waiting see their place in it on their
"Analysing…" message, edited as it moves.
Every move changes everyone's place, so editing each message at a fixed pace would cost edits in
proportion to the queue's length, squared over its life: under load a long queue took all of
Telegram's 30 requests a second and left none for answering anyone (docs/benchmarks.md). Each
message is therefore edited at
most every QUEUE_EDIT_EVERY_S and, in a long queue, less often, so that all of them together
stay near QUEUE_EDITS_PER_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings
from bot.db.base import utcnow
from bot.db.fair_use import MARK_LIFETIME, submission_times
from bot.i18n.texts import raw, text

if TYPE_CHECKING:  # the conversation imports this module through the services
    from bot.conversation.common import BotContext

HOUR = dt.timedelta(hours=1)
DAY = MARK_LIFETIME
QUEUE_EDIT_EVERY_S = 3.0
QUEUE_EDITS_PER_S = 2.0


# ------------------------------------------------------------------------------ limits


@dataclass(frozen=True, slots=True)
class LimitReached:
    limit: int
    period: str  # "hour" or "day"
    retry_at: dt.datetime


def limit_reached(
    session: Session,
    telegram_user_id: int,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> LimitReached | None:
    """Whether the person may submit another case now; if not, which limit and until when."""
    now = now or utcnow()
    day = submission_times(session, telegram_user_id, since=now - DAY)
    hour = [when for when in day if when >= now - HOUR]
    reached = [
        LimitReached(limit, period, times[len(times) - limit] + window)
        for limit, period, times, window in (
            (settings.cases_per_day, "day", day, DAY),
            (settings.cases_per_hour, "hour", hour, HOUR),
        )
        if len(times) >= limit
    ]
    return max(reached, key=lambda r: r.retry_at) if reached else None


def when_text(retry_at: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "in about 25 minutes", or for longer waits the hours and the UTC time."""
    seconds = max(0.0, (retry_at - (now or utcnow())).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return text("when_one_minute")
    if minutes < 90:
        return text("when_minutes", minutes=minutes)
    return text("when_hours", hours=math.ceil(minutes / 60), time=retry_at.strftime("%H:%M UTC"))


def limit_text(reached: LimitReached, *, at_submission: bool) -> str:
    key = "fair_use_limit_hour" if reached.period == "hour" else "fair_use_limit_day"
    # `when_text` is already safe HTML built from messages, hence `raw`.
    when = raw("fair_use_when", when=when_text(reached.retry_at))
    body = f"{text(key, limit=reached.limit)} {when}"
    if at_submission:
        body += "\n\n" + text("fair_use_case_kept")
    return body


# ------------------------------------------------------------------------------- queue

PositionCallback = Callable[[int], None]


@dataclass(eq=False)
class _Waiter:
    turn: asyncio.Future[None]
    on_position: PositionCallback | None
    place: int = -1


class ApiQueue:
    """At most `concurrency` holders at once, the others served first come, first served."""

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.running = 0
        self._waiting: deque[_Waiter] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @contextlib.asynccontextmanager
    async def turn(self, on_position: PositionCallback | None = None) -> AsyncIterator[None]:
        """Wait for a slot; `on_position(people_ahead)` is called whenever the place changes."""
        if self.running < self.concurrency and not self._waiting:
            self.running += 1
        else:
            waiter = _Waiter(asyncio.get_running_loop().create_future(), on_position)
            self._waiting.append(waiter)
            self._announce()
            try:
                await waiter.turn
            except asyncio.CancelledError:
                if waiter.turn.done() and not waiter.turn.cancelled():
                    self._release()  # the slot was handed over just as we were cancelled
                else:
                    # Already gone if a release skipped it as cancelled.
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(waiter)
                    self._announce()
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        # The slot goes straight to the next in line, so nobody can overtake the queue.
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.turn.done():
                waiter.turn.set_result(None)
                self._announce()
                return
        self.running -= 1

    def _announce(self) -> None:
        for ahead, waiter in enumerate(self._waiting):
            if waiter.on_position is not None and waiter.place != ahead:
                waiter.place = ahead
                waiter.on_position(ahead)


def queue_text(ahead: int) -> str:
    if ahead == 0:
        place = text("queue_next")
    elif ahead == 1:
        place = text("queue_one_ahead")
    else:
        place = text("queue_many_ahead", count=ahead)
    return raw("queue_position", place=place)


class QueueNotice:
    """Shows a person's place in the queue on their "Analysing…" message, edits rate-limited."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        base: str,
        *,
        every_s: float = QUEUE_EDIT_EVERY_S,
        queue: ApiQueue | None = None,
    ) -> None:
        self.bot, self.chat_id, self.message_id, self.base = bot, chat_id, message_id, base
        self.every_s = every_s
        self.queue = queue
        self.latest: int | None = None
        self.shown: int | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __call__(self, ahead: int) -> None:
        self.latest = ahead
        self._changed.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _edit(self, body: str) -> None:
        # The message may be gone or already show this; the analysis goes on regardless.
        with contextlib.suppress(TelegramError):
            await self.bot.edit_message_text(body, chat_id=self.chat_id, message_id=self.message_id)

    async def _run(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            if self.latest is not None and self.latest != self.shown:
                self.shown = self.latest
                await self._edit(f"{self.base}\n\n{queue_text(self.latest)}")
            await asyncio.sleep(self.pause())

    def pause(self) -> float:
        """Seconds until this message may be edited again."""
        waiting = self.queue.waiting if self.queue is not None else 0
        return max(self.every_s, waiting / QUEUE_EDITS_PER_S)

    async def close(self) -> None:
        """The person's turn came: stop editing, and drop the queue line if one was shown."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.shown is not None:
            await self._edit(self.base)


@contextlib.asynccontextmanager
async def api_turn(
    bot: Bot,
    queue: ApiQueue,
    chat_id: int,
    status_message_id: int | None,
    photo_count: int,
) -> AsyncIterator[None]:
    """Wait for a free API slot, showing the person's place on their status message."""
    notice = (
        QueueNotice(
            bot, chat_id, status_message_id, text("analysing", count=photo_count), queue=queue
        )
        if status_message_id is not None
        else None
    )
    try:
        async with queue.turn(notice):
            if notice is not None:
                await notice.close()
                notice = None
            yield
    finally:
        if notice is not None:
            await notice.close()


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
        from bot.conversation.common import open_view
        from bot.conversation.display import show_below

        view = await context.services.database.run(open_view, telegram_user_id)
        if view is not None:
            await show_below(context, chat_id, view, before=body)
            return True
    await context.bot.send_message(chat_id, body)
    return True
