"""Two bot processes on one PostgreSQL database: the leader killed, later the new leader frozen.

    PYTHONPATH=. python tests/perf/bench_faults.py --processes 2 --database postgresql
        [--people 60] [--spread 120] [--lease S] [--postgres-url URL]

Two `python -m bot run` processes (slots a and b, each with its own HEALTH_PORT and its own
URLs into the fakes, so every call names its process) share a fresh PostgreSQL database. People
arrive over --spread seconds and take whole cases, while:
  (1) once 35% have pressed Send, the process whose /healthz says "leader" is killed with
      SIGKILL; once the other says "leader" and has answered an update, the killed one is
      started again as its supervisor would (it stands by);
  (2) once 70% have (and --gap s after (1)), the leader is frozen with SIGSTOP for
      LEADER_LEASE_S + --overstay seconds, then continued with SIGCONT: it must exit with status
      75 and make no call to Telegram or the API from then on; it is then started again.
Each fault waits (up to --aim s) for a moment when the leader has an API request in flight.

Reported, as bench_faults.py reports: started, completed, lost, duplicates (duplicate_texts,
duplicate_cards), nudges, events with times. Then update_answer_s: from an update's hand-out to
its first answer (Telegram counts an update delivered once the next poll asks for later ones,
which PTB does at once: this is the window in which a fault can leave an update unanswered).
Per fault: takeover_s (from the fault to the other process saying "leader" and answering an
update handed to it), role_s, api_calls_in_flight (the faulted process's API requests
unanswered at the fault), photos_fetched_again (photos the faulted process had downloaded
that its successor downloaded again), updates_redelivered (handed to the faulted process, not
yet confirmed, handed again to its successor), updates_delivered_unanswered (confirmed, never
answered, never handed to anyone else) with, for each, whose it was, whether the bot caught
up by itself and whether the person nudged; presses_answered_only (presses it answered, the
spinner stopped, with nothing shown after: a "Send" whose "Analysing…" never came); nudged:
people who sent /new between that fault and the next, and on what (how a person notices).
Overall: cases whose API request came more than once, and whether requests in flight at the
faults explain them; 409 conflicts; times two processes said "leader" at once. Bar ("ok"):
every takeover_s <= 15, lost 0, duplicates 0, extra API calls <= calls in flight, the frozen
process exited 75 and called nothing after SIGCONT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.ops.lifecycle import EXIT_LAPSED
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.ops.process import BotProcess, free_port
from tests.perf.attribution import (
    Fault,
    answer_delays,
    base_photos,
    calls_after,
    first_served,
    in_flight,
    left_behind,
    person_photos,
    photos_fetched_again,
    repeated_calls,
    updates_left_behind,
)
from tests.perf.people import (
    FAULT_SETTINGS,
    GIVEN_UP,
    UNSETTLED,
    Person,
    bot_env,
    database_server,
    fresh_database,
    live,
    outcome,
)

TAKEOVER_BAR_S = 15.0  # the bar: the standby serves within 15 s of the fault


def default_lease_s() -> float:
    setting = Settings.model_fields.get("leader_lease_s")
    if setting is None or not isinstance(setting.default, int | float):
        raise SystemExit("this bot has no LEADER_LEASE_S setting: give --lease")
    return float(setting.default)


@dataclass
class Slot:
    """One supervised place for a bot process: restarted, it is a new incarnation with new
    URLs into the fakes (`via`), so the calls of a process continued after a freeze are told
    apart from its successor's."""

    name: str
    workdir: Path
    health_port: int
    env_for: Callable[[str, int], dict[str, str]]
    logs: str | None = None  # the prefix of each incarnation's log file (default: in workdir)
    incarnation: int = 0
    bot: BotProcess | None = None
    role: str | None = None  # as /healthz last said (None: no answer)
    exits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def via(self) -> str:
        return f"{self.name}{self.incarnation}"

    async def start(self) -> None:
        self.incarnation += 1
        self.role = None
        name = f"{self.via}.log"
        log = Path(f"{self.logs}.{name}") if self.logs else self.workdir / name
        self.bot = BotProcess(self.workdir, self.env_for(self.via, self.health_port), log)
        await self.bot.start()

    @property
    def process(self) -> asyncio.subprocess.Process:
        assert self.bot is not None and self.bot.process is not None
        return self.bot.process

    def alive(self) -> bool:
        started = self.bot is not None and self.bot.process is not None
        return started and self.process.returncode is None

    def ended(self, how: str, status: int | None) -> None:
        self.exits.append({"process": self.via, "how": how, "exit_status": status})

    async def stop(self, how: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """Send `sig`, wait for the exit and record it."""
        assert self.bot is not None
        status = await self.bot.stop(sig, timeout)
        self.ended(how, status)
        return status


async def watch_role(
    slot: Slot,
    slots: list[Slot],
    http: httpx.AsyncClient,
    note: Callable[[str], None],
    stats: dict[str, int],
) -> None:
    """Read the slot's /healthz every 0.2 s (a frozen process answers nothing); note every
    change of role, and count the times two processes said "leader" at once."""
    while True:
        role: str | None = None
        if slot.alive():
            with contextlib.suppress(httpx.HTTPError, ValueError, AttributeError):
                answer = await http.get(f"http://127.0.0.1:{slot.health_port}/healthz", timeout=0.5)
                said = answer.json().get("role")
                role = None if said is None else str(said)
        if role != slot.role:
            note(f"{slot.via}: {role or 'no answer'}")
            slot.role = role
        if role == "leader" and sum(s.role == "leader" for s in slots) > 1:
            stats["two_leaders_seen"] += 1
        await asyncio.sleep(0.2)


async def until(condition: Callable[[], bool], timeout: float, what: str) -> float:  # noqa: ASYNC109
    """Wait (checking every 0.05 s: /healthz and the fakes' records announce nothing) until
    `condition`; the time.monotonic() it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic()


async def database_count(url: str, sql: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.database != "postgresql":
        raise SystemExit("two processes need PostgreSQL: --database postgresql")
    lease = args.lease if args.lease is not None else default_lease_s()
    async with database_server(args) as server:
        assert server is not None
        url = await fresh_database(server)
        return await _run(args, url, lease)


async def _run(args: argparse.Namespace, url: str, lease: float) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    faults: list[dict[str, Any]] = []
    marks: list[Fault] = []
    stats = {"two_leaders_seen": 0}
    bases = await asyncio.to_thread(base_photos)
    with tempfile.TemporaryDirectory(prefix="bench-takeover-") as tmp:
        async with (
            FakeTelegram(record_calls=False) as telegram,
            FakeModelDerm(behaviour=Behaviour.normal(args.latency)) as api,
            httpx.AsyncClient() as http,
        ):

            def env_for(via: str, port: int) -> dict[str, str]:
                return bot_env(
                    telegram,
                    api.url_for(via),
                    Path(tmp) / "unused.sqlite3",
                    port,
                    database_url=url,
                    telegram_api_base_url=telegram.base_url_for(via),
                    telegram_file_base_url=telegram.base_file_url_for(via),
                    leader_lease_s=lease,
                    **FAULT_SETTINGS,
                    # What leadership says it does ("standing by", "lost the leadership").
                    log_level="INFO",
                )

            slots = []
            for name in ("a", "b"):
                workdir = Path(tmp) / name
                workdir.mkdir()
                slots.append(Slot(name, workdir, free_port(), env_for, args.bot_log))
            began = time.monotonic()

            def note(what: str) -> None:
                events.append({"t": round(time.monotonic() - began, 1), "event": what})

            watchers = [
                asyncio.create_task(watch_role(slot, slots, http, note, stats)) for slot in slots
            ]
            try:
                return await _scenario(
                    args, lease, telegram, api, slots, bases, note, began, faults, marks, stats
                ) | {"events": events}
            except BaseException:
                print(json.dumps(events), file=sys.stderr)
                for slot in slots:
                    if slot.bot is not None:
                        tail = slot.bot.output()[-3000:]
                        print(f"--- {slot.via} log tail:\n{tail}", file=sys.stderr, flush=True)
                raise
            finally:
                for watcher in watchers:
                    watcher.cancel()
                for slot in slots:
                    if slot.alive():
                        with contextlib.suppress(ProcessLookupError):
                            slot.process.send_signal(signal.SIGCONT)
                        with contextlib.suppress(TimeoutError):
                            await slot.stop("stopped at the end")
                        if slot.alive():
                            await slot.stop("killed at the end", signal.SIGKILL)


async def _scenario(
    args: argparse.Namespace,
    lease: float,
    telegram: FakeTelegram,
    api: FakeModelDerm,
    slots: list[Slot],
    bases: list[Any],
    note: Callable[[str], None],
    began: float,
    faults: list[dict[str, Any]],
    marks: list[Fault],
    stats: dict[str, int],
) -> dict[str, Any]:
    first, second = slots
    await first.start()
    await until(lambda: first.role == "leader", 90, f"{first.via} to lead")
    await second.start()
    await until(lambda: second.role == "standby", 90, f"{second.via} to stand by")
    note("both up")

    crowd = []
    for n in range(args.people):
        photos = await asyncio.to_thread(person_photos, bases, n)
        crowd.append(Person(FakeUser(telegram, f"P{n}"), photos=photos))
    give_up = time.monotonic() + args.timeout

    async def arrive(person: Person, delay: float) -> None:
        await asyncio.sleep(delay)
        await live(person, patience=20, give_up_at=give_up, think=args.think)

    finished: list[bool] = []

    async def sent(share: float) -> None:
        # Faults hit while cases are in flight (or, if fewer pressed Send, once all are done).
        await until(
            lambda: (
                bool(finished)
                or sum(p.submitted_at is not None for p in crowd) >= share * len(crowd)
            ),
            args.timeout,
            f"{share:.0%} to press Send",
        )

    def leader() -> tuple[Slot, Slot]:
        leading = [s for s in slots if s.role == "leader" and s.alive()]
        if len(leading) != 1:
            raise RuntimeError(f"expected one leader, /healthz says: {[s.role for s in slots]}")
        return leading[0], next(s for s in slots if s is not leading[0])

    async def takeover(old: Slot, new: Slot, fault: Fault, record: dict[str, Any]) -> None:
        led = await until(lambda: new.role == "leader", 120, f"{new.via} to lead")
        served: list[float] = []

        def serving() -> bool:
            at = first_served(telegram.process_calls, telegram.handouts, new.via, fault.at)
            served.extend([at] if at is not None else [])
            return at is not None

        await until(serving, 120, f"{new.via} to answer an update")
        record["role_s"] = round(led - fault.at, 2)
        record["takeover_s"] = round(max(led, served[0]) - fault.at, 2)
        record["successor"] = new.via
        note(f"{new.via} serves ({record['takeover_s']} s after the fault)")

    def hit(kind: str, old: Slot) -> tuple[Fault, dict[str, Any]]:
        fault = Fault(old.via, time.monotonic(), time.time())
        marks.append(fault)
        record: dict[str, Any] = {
            "fault": kind,
            "process": old.via,
            "t": round(fault.at - began, 1),
            "sent_so_far": sum(p.submitted_at is not None for p in crowd),
            "_nudges": [p.nudges for p in crowd],
            "api_calls_in_flight": len(in_flight(api.requests, fault)),
        }
        faults.append(record)
        note(f"{old.via}: {kind}")
        return fault, record

    async def aim(old: Slot) -> None:
        # Hit while an API request is in flight when one comes soon: the successor then sends
        # that case again, the one repeat the bar allows, and the run shows it is the only one.
        with contextlib.suppress(TimeoutError):
            await until(
                lambda: bool(
                    in_flight(api.requests, Fault(old.via, time.monotonic(), time.time()))
                ),
                args.aim,
                "an API request in flight",
            )

    async def fault_plan() -> None:
        await sent(0.35)
        old, new = leader()
        await aim(old)
        fault, record = hit("SIGKILL", old)
        await old.stop("SIGKILL", signal.SIGKILL)
        await takeover(old, new, fault, record)
        await old.start()
        await until(lambda: old.role == "standby", 90, f"{old.via} to stand by")
        note(f"{old.via}: restarted, stands by")

        await asyncio.sleep(args.gap)
        await sent(0.70)
        old, new = leader()
        await aim(old)
        fault, record = hit(f"SIGSTOP for {lease + args.overstay:g} s", old)
        old.process.send_signal(signal.SIGSTOP)
        frozen_via = old.via
        measuring = asyncio.create_task(takeover(old, new, fault, record))
        await asyncio.sleep(lease + args.overstay)
        continued = time.monotonic()
        continued_wall = time.time()
        old.process.send_signal(signal.SIGCONT)
        note(f"{frozen_via}: SIGCONT")
        try:
            status = await asyncio.wait_for(old.process.wait(), 60)
            how = "exited after SIGCONT"
            old.ended(how, status)
        except TimeoutError:
            how = "killed: still running 60 s after SIGCONT"
            status = await old.stop(how, signal.SIGKILL)
        note(f"{frozen_via}: {how}, status {status}")
        record["exit_status_after_continue"] = status
        record["telegram_calls_after_continue"] = calls_after(
            telegram.process_calls, frozen_via, continued
        )
        record["api_calls_after_continue"] = sum(
            r.via == frozen_via and r.received_at >= continued_wall for r in api.requests
        )
        await measuring
        await old.start()
        await until(lambda: old.role == "standby", 90, f"{old.via} to stand by")
        note(f"{old.via}: restarted, stands by")

    plan = asyncio.create_task(fault_plan())
    spread = args.spread / max(1, len(crowd))

    async def everyone() -> None:
        await asyncio.gather(
            *(arrive(p, n * spread * random.uniform(0.5, 1.5)) for n, p in enumerate(crowd))
        )
        finished.append(True)

    people = asyncio.create_task(everyone())
    await asyncio.wait([plan, people], return_when=asyncio.FIRST_EXCEPTION)
    if plan.done() and plan.exception() is not None:
        people.cancel()
    await plan
    await people
    await plan
    note("last person done")

    assert slots[0].bot is not None
    url = slots[0].bot.env["DATABASE_URL"]
    # A result sent but not recorded as sent is sent again later: wait that out.
    for _ in range(120):
        if not await database_count(url, UNSETTLED):
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(2.0)
    left = await database_count(url, UNSETTLED)
    given_up = await database_count(url, GIVEN_UP)
    for slot in sorted(slots, key=lambda s: s.role == "leader"):  # the standby first
        await slot.stop("SIGTERM at the end")
    note("bots stopped")
    return _report(
        args, lease, telegram, api, crowd, faults, marks, stats, slots, began, left, given_up
    )


def _next_answer(telegram: FakeTelegram, chat_id: int | None, fault: Fault) -> dict[str, Any]:
    """When the bot next wrote to that chat after the fault, and whether it did so before the
    person wrote again (it caught up by itself: what the update said had been stored)."""
    answers = [
        c.at
        for c in telegram.process_calls
        if c.chat_id == chat_id and c.at >= fault.at and c.method.lower() != "getupdates"
    ]
    wrote = [h.at for h in telegram.handouts if h.chat_id == chat_id and h.at >= fault.at]
    if not answers:
        return {"chat_answered_s_after_fault": None, "before_the_person_wrote_again": False}
    return {
        "chat_answered_s_after_fault": round(min(answers) - fault.at, 2),
        "before_the_person_wrote_again": not wrote or min(answers) < min(wrote),
    }


def _report(
    args: argparse.Namespace,
    lease: float,
    telegram: FakeTelegram,
    api: FakeModelDerm,
    crowd: list[Person],
    faults: list[dict[str, Any]],
    marks: list[Fault],
    stats: dict[str, int],
    slots: list[Slot],
    began: float,
    left: int,
    given_up: int,
) -> dict[str, Any]:
    snapshots = [f.pop("_nudges") for f in faults] + [[p.nudges for p in crowd]]
    for index, (record, fault) in enumerate(zip(faults, marks, strict=True)):
        successor = record.get("successor", "")
        record |= updates_left_behind(
            telegram.process_calls, telegram.handouts, telegram.confirmed, fault
        )
        record["photos_fetched_again"] = photos_fetched_again(
            telegram.process_calls, fault, successor
        )
        # People who had to send /new between this fault and the next (or the end).
        nudged = {
            id(person)
            for person, before, after in zip(
                crowd, snapshots[index], snapshots[index + 1], strict=True
            )
            if after > before
        }
        record["nudged"] = len(nudged)
        record["nudged_detail"] = [
            {"person": p.user.user["first_name"], "stuck_on": p.stuck_on[-1:]}
            for p in crowd
            if id(p) in nudged
        ]
        gone = left_behind(telegram.process_calls, telegram.handouts, telegram.confirmed, fault)[2]
        by_chat = {p.user.chat_id: p for p in crowd}
        record["updates_delivered_unanswered_detail"] = [
            {
                "person": by_chat[update.chat_id].user.user["first_name"]
                if update.chat_id in by_chat
                else None,
                "kind": update.kind,
                "nudged": update.chat_id in by_chat and id(by_chat[update.chat_id]) in nudged,
                **_next_answer(telegram, update.chat_id, fault),
            }
            for update in gone
        ]
    repeats = repeated_calls(api.requests, marks)
    delays = sorted(answer_delays(telegram.process_calls, telegram.handouts))
    conflicts = sum((c.description or "").startswith("Conflict") for c in telegram.errors)
    frozen = [f for f in faults if "exit_status_after_continue" in f]
    result: dict[str, Any] = {
        "bench": "faults",
        "processes": 2,
        "database": "postgresql",
        "people": args.people,
        "lease_s": lease,
        **outcome(crowd),
        "given_up": given_up,
        "stuck_on": sorted({s for p in crowd for s in p.stuck_on})[:5],
        "unsettled_cases": left,
        "faults": faults,
        # From an update's hand-out to its first answer: the window in which a fault loses it.
        "update_answer_s": {
            "p50": round(delays[len(delays) // 2], 3) if delays else None,
            "p95": round(delays[int(len(delays) * 0.95)], 3) if delays else None,
            "max": round(delays[-1], 3) if delays else None,
        },
        **repeats,
        "conflicts_409": conflicts,
        "two_leaders_seen": stats["two_leaders_seen"],
        "processes_ended": [e for s in slots for e in s.exits],
        "seconds": round(time.monotonic() - began, 1),
    }
    result["ok"] = (
        len(faults) == 2
        and all(f.get("takeover_s", float("inf")) <= TAKEOVER_BAR_S for f in faults)
        and result["lost"] == 0
        and result["duplicates"] == 0
        and repeats["extra_calls"] <= repeats["calls_in_flight_at_faults"]
        and bool(frozen)
        and all(
            f["exit_status_after_continue"] == EXIT_LAPSED
            and not f["telegram_calls_after_continue"]
            and not f["api_calls_after_continue"]
            for f in frozen
        )
    )
    return result
