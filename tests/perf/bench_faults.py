"""Faults during a load run: nothing a person sent may be lost, no result may come twice.

    PYTHONPATH=. python tests/perf/bench_faults.py [--people 60] [--latency 0.5] [--think 0.5]

    PYTHONPATH=. python tests/perf/bench_faults.py --processes 2 --database postgresql

With --processes 2 (PostgreSQL only) the run is the takeover scenario of tests/perf/takeover.py:
a leader and a standby, the leader killed, later the new leader frozen past its lease. Without
it (the default, described here), one process on SQLite:

People take whole cases (as in bench_load.py) while, one after another:
  (a) once 20% have pressed Send, the API answers 502 (the real proxy page) for --outage
      seconds, then recovers;
  (b) once 50% have (and --gap s after (a)), the bot process is killed with SIGKILL and
      started again a second later;
  (c) once 80% have (and --gap s after (b)), another connection holds an exclusive SQLite
      transaction for --lock seconds.
The bot runs as its own process; the fake Telegram, the fake API and the people run here.

Reported: started (people who pressed Send), completed (got their result), delivered_late (the
result came with "the check you sent earlier", i.e. after a pending retry or a restart), lost
(pressed Send, no result by the end), duplicates (people shown their result text in more than
one message, or sent more than one result card; duplicate_texts and duplicate_cards tell them
apart), given_up (results the bot stopped trying to deliver). A prompt result arrives as an edit
of "Analysing…", so every message that ever showed a result text counts. After the last result
the run waits until no completed case is left unrecorded as delivered (the bot tries those
again after 60 s), so a late duplicate would be seen. Bar: lost = 0 and duplicates = 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bot.db.migrate import upgrade_to_head
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.ops.process import BotProcess, free_port
from tests.perf import takeover
from tests.perf.people import (
    FAULT_SETTINGS,
    GIVEN_UP,
    UNSETTLED,
    Person,
    bot_env,
    live,
    outcome,
    wait_healthy,
)


def hold_exclusive_lock(database: Path, seconds: float, held: threading.Event) -> None:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        db.execute("BEGIN EXCLUSIVE")
        held.set()
        time.sleep(seconds)
        db.rollback()


def unrecorded_deliveries(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        (count,) = db.execute(UNSETTLED).fetchone()
    return int(count)


def given_up_deliveries(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        (count,) = db.execute(GIVEN_UP).fetchone()
    return int(count)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        workdir = Path(tmp)
        database = workdir / "bot.sqlite3"
        await asyncio.to_thread(upgrade_to_head, f"sqlite+aiosqlite:///{database}")
        async with (
            FakeTelegram(record_calls=False) as telegram,
            FakeModelDerm(behaviour=Behaviour.normal(args.latency)) as api,
            httpx.AsyncClient() as http,
        ):
            port = free_port()
            env = bot_env(
                telegram,
                api.url,
                database,
                port,
                **FAULT_SETTINGS,
            )
            bot_log = Path(args.bot_log) if args.bot_log else None
            bot = BotProcess(workdir, env, bot_log)
            await bot.start()
            await wait_healthy(http, port, bot)
            crowd = [Person(FakeUser(telegram, f"P{n}")) for n in range(args.people)]
            began = time.monotonic()
            give_up = began + args.timeout

            def note(what: str) -> None:
                events.append({"t": round(time.monotonic() - began, 1), "event": what})

            async def sent(share: float) -> None:
                # Faults hit while cases are in flight: wait until this share pressed Send.
                for _ in range(int(args.timeout / 0.2)):
                    if sum(p.submitted_at is not None for p in crowd) >= share * len(crowd):
                        return
                    await asyncio.sleep(0.2)

            async def faults() -> None:
                nonlocal bot
                await sent(0.2)
                note("api: 502 from now")
                api.behaviour = Behaviour.proxy_error()
                await asyncio.sleep(args.outage)
                api.behaviour = Behaviour.normal(args.latency)
                note("api: recovered")
                await asyncio.sleep(args.gap)
                await sent(0.5)
                note("bot: SIGKILL")
                await bot.stop(signal.SIGKILL)
                await asyncio.sleep(1.0)
                bot = BotProcess(workdir, env, bot_log)
                await bot.start()
                note("bot: restarted")
                await asyncio.sleep(args.gap)
                await sent(0.8)
                held = threading.Event()
                locker = asyncio.create_task(
                    asyncio.to_thread(hold_exclusive_lock, database, args.lock, held)
                )
                await asyncio.to_thread(held.wait, 30)
                note(f"db: exclusive lock for {args.lock:g} s")
                await locker
                note("db: unlocked")

            fault_task = asyncio.create_task(faults())
            await asyncio.gather(
                *(live(p, patience=20, give_up_at=give_up, think=args.think) for p in crowd)
            )
            await fault_task
            note("last person done")
            # A result sent but not recorded as sent is re-sent after 60 s: wait that out.
            for _ in range(90):
                if not await asyncio.to_thread(unrecorded_deliveries, database):
                    break
                await asyncio.sleep(1.0)
            await asyncio.sleep(2.0)
            left = await asyncio.to_thread(unrecorded_deliveries, database)
            given_up = await asyncio.to_thread(given_up_deliveries, database)
            status = await bot.stop()
            note("bot stopped")
    return {
        "bench": "faults",
        "people": args.people,
        **outcome(crowd),
        "given_up": given_up,
        "unsettled_cases": left,
        "seconds": round(time.monotonic() - began, 1),
        "exit_status": status,
        "events": events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--processes", type=int, choices=(1, 2), default=1, help="2: a leader and a standby"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server to use (postgresql+asyncpg://...); by default one is started",
    )
    parser.add_argument(
        "--lease", type=float, help="LEADER_LEASE_S (two processes; default: the bot's)"
    )
    parser.add_argument(
        "--overstay", type=float, default=6.0, help="s a frozen leader stays stopped past its lease"
    )
    parser.add_argument(
        "--spread", type=float, default=120.0, help="s over which people arrive (two processes)"
    )
    parser.add_argument(
        "--aim",
        type=float,
        default=10.0,
        help="s a fault waits at most for an API request in flight (two processes)",
    )
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.5, help="fake API answer time, s")
    parser.add_argument("--think", type=float, default=0.5, help="mean seconds per step")
    parser.add_argument("--outage", type=float, default=10.0, help="s of 502 answers")
    parser.add_argument("--gap", type=float, default=5.0, help="s at least between faults")
    parser.add_argument("--lock", type=float, default=3.0, help="s the database is locked")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--bot-log", help="keep the bot's own log (both runs) in this file")
    args = parser.parse_args()
    if args.processes == 2:
        print(json.dumps(asyncio.run(takeover.run(args))), flush=True)
        return
    if args.database != "sqlite":
        parser.error("one process runs on SQLite here; --processes 2 for PostgreSQL")
    result = asyncio.run(run(args))
    result["ok"] = result["lost"] == 0 and result["duplicates"] == 0
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
