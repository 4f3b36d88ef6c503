"""Whether this process leads, until when, and the one check every effect of a leader passes.

On PostgreSQL two bot processes may run on one database: one leads (takes Telegram's updates,
runs the jobs), the other stands by (docs/deployment.md). The lease row that decides it lives in
the database (bot/db/leadership.py); `LeaseKeeper` takes and renews it from a thread of its own,
and `Leadership` holds what this process may conclude from that: it leads until a deadline on
its own monotonic clock, measured from before the renewal it sent and short of the lease by one
renewal interval, so it stops acting before the database lets anyone else take the lease.

Nothing acts on that deadline's word alone once: every Bot API request (LeaderRequest), every
update (the update processor) and every commit of a unit of work calls `check()` first. So a
process frozen past its lease (SIGSTOP) and continued acts on nothing, whatever its event loop
happens to run first; the first refusal ends its leadership for good and the process stops.
On SQLite one process serves the database (bot/db/one_process.py): it leads from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import inspect
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from telegram.error import NetworkError
from telegram.request import RequestData

from bot.db.claims import Claim
from bot.db.database import Database
from bot.db.leadership import lead, step_down
from bot.runtime.metrics import MeasuredRequest, MeasuredUpdateProcessor, Metrics

log = logging.getLogger(__name__)

_LEADERSHIP_KEY = "leadership"

# The leader renews its lease this many times within it, and a standby tries as often: one
# slow or failed renewal costs nothing, and a standby takes over within a quarter of a lease
# after it ran out.
RENEWALS_PER_LEASE = 4


class Role(enum.StrEnum):
    STANDBY = "standby"
    LEADER = "leader"
    # Led, and may not any more: the process acts on nothing and stops.
    LAPSED = "lapsed"


class NotLeading(NetworkError):
    """This process does not lead (any more): nothing may go to Telegram or into the database.

    A NetworkError for PTB (its request layer passes Telegram's own errors through unchanged):
    to a handler, Telegram is as good as unreachable from this process, which it now is."""

    def __init__(self) -> None:
        super().__init__("this bot process does not lead (any more) and acts on nothing")


class Leadership:
    """This process's right to act, and until when (the one owner of that fact)."""

    def __init__(self, holder: str, lease_s: float, *, alone: bool = False) -> None:
        self.holder = holder
        self.lease_s = lease_s
        # Monotonic time until which this process may act.
        self._until = math.inf if alone else 0.0
        self._led = alone
        self._lapsed = False
        self.reason = ""
        # What the last try to take or renew the lease showed of the database (for /healthz).
        self.database_ok: bool | None = True if alone else None
        self._lock = threading.Lock()
        self._on_led: list[Callable[[], object]] = []
        self._on_lapse: list[Callable[[], object]] = []

    @classmethod
    def alone(cls, holder: str) -> Leadership:
        """The only process on its database (SQLite): it leads from the start, for good."""
        return cls(holder, math.inf, alone=True)

    @property
    def renew_every_s(self) -> float:
        return self.lease_s / RENEWALS_PER_LEASE

    @property
    def role(self) -> Role:
        if self._lapsed:
            return Role.LAPSED
        return Role.LEADER if self._led else Role.STANDBY

    @property
    def lapsed(self) -> bool:
        return self._lapsed

    def leads(self) -> bool:
        return time.monotonic() < self._until

    def check(self) -> None:
        """Raise NotLeading unless this process leads now; the first refusal of a leader ends
        its leadership."""
        if time.monotonic() < self._until:
            return
        if self._led:
            self.lapse("its lease ran out before it could renew it")
        raise NotLeading()

    def renewed(self, sent_at: float) -> bool:
        """The database gave this process the lease, in a statement sent at `sent_at` (monotonic);
        whether this made it the leader just now."""
        with self._lock:
            if self._lapsed:
                return False  # a process that lost the lead never takes it back
            # The database's lease runs from when it ran the statement, no earlier than
            # `sent_at`; one renewal interval short of it covers a request already on its way.
            self._until = sent_at + self.lease_s - self.renew_every_s
            first, self._led = not self._led, True
            callbacks = list(self._on_led) if first else []
        if first:
            log.info("this process leads now (%s)", self.holder)
        for callback in callbacks:
            callback()
        return first

    def lapse(self, reason: str) -> None:
        """The leadership is over for this process (idempotent): nothing passes `check()` any
        more, and whoever asked (`when_lapsed`) is told once."""
        with self._lock:
            if self._lapsed:
                return
            self._lapsed, self._until, self.reason = True, 0.0, reason
            callbacks = list(self._on_lapse)
        log.error("lost the leadership (%s): this process stops; the standby takes over", reason)
        for callback in callbacks:
            callback()

    def when_led(self, callback: Callable[[], object]) -> None:
        """Call `callback` (from the keeper's thread) once this process leads."""
        self._on_led.append(callback)

    def when_lapsed(self, callback: Callable[[], object]) -> None:
        """Call `callback` (from any thread) once the leadership lapses."""
        self._on_lapse.append(callback)


def guard_commits(database: Database, leadership: Leadership) -> None:
    """Every unit of work of `database` commits only if this process leads at that moment: one
    frozen mid-way and continued after its lease ran out is rolled back."""
    database.configure_sessions(info={_LEADERSHIP_KEY: leadership})
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    leadership = session.info.get(_LEADERSHIP_KEY)
    if isinstance(leadership, Leadership):
        leadership.check()


class LeaderRequest(MeasuredRequest):
    """PTB's HTTP client to Telegram, refusing every request unless this process leads."""

    def __init__(self, leadership: Leadership, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.leadership = leadership

    async def answer_instead(self, request_data: RequestData | None) -> tuple[int, bytes] | None:
        self.leadership.check()
        return None


class LeaderUpdateProcessor(MeasuredUpdateProcessor):
    """The bot's update processor, handling an update only if this process leads when the
    update's turn comes."""

    def __init__(self, leadership: Leadership, metrics: Metrics) -> None:
        super().__init__(metrics)
        self.leadership = leadership

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await super().do_process_update(update, self._if_leading(coroutine))

    async def _if_leading(self, coroutine: Awaitable[Any]) -> None:
        try:
            self.leadership.check()
        except NotLeading:
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            # Telegram counts it delivered: the person sees no answer and sends it again.
            log.warning("an update was not handled: this process does not lead any more")
            return
        await coroutine


class LeaderUpdatesRequest(LeaderRequest):
    """The client of `getUpdates`: once this process does not lead, a poll is answered here as
    Telegram answers one with nothing new (after its wait, up to a second), and never sent.

    Raising instead would make PTB's polling loop log each refusal as a failure, and the last
    poll it sends while stopping (to mark the updates it fetched as read) as an error; an
    empty answer is the truth for this process: no update will come to it any more.
    """

    async def answer_instead(self, request_data: RequestData | None) -> tuple[int, bytes] | None:
        try:
            self.leadership.check()
        except NotLeading:
            wait = request_data.parameters.get("timeout", 0) if request_data else 0
            await asyncio.sleep(min(float(wait) if isinstance(wait, int | float) else 0, 1.0))
            return 200, _NO_UPDATES
        return None


_NO_UPDATES = b'{"ok": true, "result": []}'


class LeaseKeeper:
    """Takes the leadership lease when it is free and renews it while this process leads.

    A thread of its own, with its own event loop and one connection: a busy bot's event loop
    never delays a renewal, and the bot's pool never makes it wait for a connection.
    """

    def __init__(self, leadership: Leadership, database_url: str) -> None:
        self.leadership = leadership
        self.database_url = database_url
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._step_down = False
        self._announced = False
        self._engine: AsyncEngine
        self._sessions: async_sessionmaker[AsyncSession]
        self._thread = threading.Thread(target=self._run, name="leader-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, step_down: bool) -> None:
        """Stop renewing; `step_down`: give the lease back at once, so that the standby takes
        over without waiting for it to run out (a clean stop). Blocks until the thread ends."""
        self._step_down = step_down
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            # The thread may have ended already (a lapse ends it), and its loop with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._keep())

    async def _keep(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        every = self.leadership.renew_every_s
        engine = create_async_engine(
            self.database_url,
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
            hide_parameters=True,
            # A renewal that cannot finish within its interval has failed: the next one is due.
            connect_args={"timeout": every, "command_timeout": every},
        )
        self._engine, self._sessions = engine, async_sessionmaker(engine)
        try:
            while not self._stop.is_set():
                sent_at = time.monotonic()
                self._conclude(await self._try(), sent_at)
                if self.leadership.lapsed:
                    break
                with contextlib.suppress(TimeoutError):
                    pause = max(0.0, sent_at + every - time.monotonic())
                    await asyncio.wait_for(self._stop.wait(), pause)
            if self._step_down and self.leadership.role is Role.LEADER:
                await self._give_back()
        finally:
            await engine.dispose()

    async def _try(self) -> bool | None:
        """One try at taking or renewing the lease: whether this process got it (None: the
        database did not answer in time)."""
        leadership, every = self.leadership, self.leadership.renew_every_s
        claim = Claim(leadership.holder, dt.timedelta(seconds=leadership.lease_s))
        try:
            async with asyncio.timeout(every), self._sessions.begin() as session:
                got = await session.run_sync(lead, claim)
        except Exception as error:  # any failure: no renewal this time, the next try is due
            if leadership.database_ok is not False and not leadership.lapsed:
                log.warning("leadership lease: the database does not answer (%r)", error)
            leadership.database_ok = False
            # The next try starts on a fresh connection; closing this one may hang too.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(every):
                    await self._engine.dispose()
            return None
        if leadership.database_ok is False:
            log.info("leadership lease: the database answers again")
        leadership.database_ok = True
        return got

    def _conclude(self, got: bool | None, sent_at: float) -> None:
        """What a try at `sent_at` means for this process."""
        leadership = self.leadership
        if leadership.lapsed:
            return
        if got:
            leadership.renewed(sent_at)
        elif leadership.role is Role.LEADER:
            if got is False:
                leadership.lapse("another process took the lease")
            elif not leadership.leads():
                leadership.lapse("the database could not renew its lease in time")
        elif got is False and not self._announced:
            self._announced = True
            log.info("standing by: another bot process leads")

    async def _give_back(self) -> None:
        try:
            async with asyncio.timeout(self.leadership.renew_every_s):
                async with self._sessions.begin() as session:
                    await session.run_sync(step_down, self.leadership.holder)
        except Exception as error:  # the lease runs out by itself instead
            log.warning("leadership lease not given back (%r)", error)
