"""Load: N people at once each take a whole case through the bot; the cost curve over N.

    PYTHONPATH=. python tests/perf/bench_load.py [--people 50,200,800] [--latency 1.0]
                                                 [--api-concurrency 4]

    PYTHONPATH=. python tests/perf/bench_load.py --database postgresql [--postgres-url URL]

The bot runs as its own process (`python -m bot run`, polling, SQLite or PostgreSQL: a server
started for the run as .ci/run starts one, or the one at --postgres-url), the fake Telegram and
the people in this process, the fake API (answering after --latency seconds) in a third. Each
person: /start, agree, own skin, 2 photos, Done, 7 answers, Send, result.

Reported per N: started, completed (must equal started), cases_per_s (completed over the time
from the first /start to the last result), p50/p95/p99 of the bot's own handling time per
update (from the bot's modelderm_bot_update_seconds histogram, interpolated within buckets; it
excludes the API's latency, which is spent in the background after the update is handled),
with_telegram_p50/p95_ms (the same, including the handler's Bot API calls: what the person feels),
calls_per_case (Bot API calls to the people's chats that count against Telegram's flood limit,
per completed case: sends, edits, deletes, photos, chat actions), and rss_mb, the bot process's
peak resident memory (VmHWM). One JSON line per N, and last one line for the default N (or the
largest given) with the curve under "curve". Bar ("ok"): at every N,
completed == started, p95 under 100 ms and rss_mb under 300. The latest numbers and their
history are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bot.db.migrate import upgrade_to_head
from tests.fakes.telegram_server import FLOOD_LIMITED, FakeTelegram
from tests.fakes.telegram_user import FakeUser
from tests.ops.process import BotProcess, free_port
from tests.perf.people import (
    Person,
    bot_env,
    database_server,
    fresh_database,
    live,
    modelderm_process,
    percentile_from_histogram,
    update_histogram,
    wait_healthy,
)


async def run_once(
    people: int,
    api_url: str,
    api_concurrency: int,
    limit_s: float,
    think: float,
    server: str | None = None,
) -> dict[str, Any]:
    """One run; `server`: a PostgreSQL server's URL (a fresh database is made on it), or None
    for SQLite."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        database = workdir / "bot.sqlite3"
        url = f"sqlite+aiosqlite:///{database}" if server is None else await fresh_database(server)
        await asyncio.to_thread(upgrade_to_head, url)
        async with FakeTelegram(record_calls=False) as telegram, httpx.AsyncClient() as http:
            port = free_port()
            env = bot_env(
                telegram, api_url, database, port, api_concurrency=api_concurrency, database_url=url
            )
            bot = BotProcess(workdir, env)
            await bot.start()
            try:
                await wait_healthy(http, port, bot)
                crowd = [Person(FakeUser(telegram, f"P{n}")) for n in range(people)]
                began = time.perf_counter()
                give_up = time.monotonic() + limit_s
                await asyncio.gather(
                    *(live(p, patience=60, give_up_at=give_up, think=think) for p in crowd)
                )
                buckets = await update_histogram(http, port)
                total = await update_histogram(http, port, "update_seconds")
                photos = await update_histogram(http, port, "photo_prepare_seconds")
                rss = bot.peak_rss_mb()
                flood_calls = sum(
                    n for m, n in telegram.method_counts.items() if m.lower() in FLOOD_LIMITED
                )
                bot_cpu = sum(psutil.Process(bot.pid).cpu_times()[:2])
            finally:
                # A bot with a long backlog handles it before it exits; do not wait for ever.
                try:
                    status = await bot.stop(timeout=60)
                except TimeoutError:
                    status = await bot.stop(signal.SIGKILL)
    finished = [p.finished_at for p in crowd if p.finished_at is not None]
    duration = (max(finished) - began) if finished else float("nan")
    return {
        "people": people,
        "started": people,
        "completed": len(finished),
        "duplicates": sum(len(p.results()) > 1 for p in crowd),
        "nudges": sum(p.nudges for p in crowd),
        "stuck_on": sorted({s for p in crowd for s in p.stuck_on})[:5],
        "seconds": round(duration, 1),
        "cases_per_s": round(len(finished) / duration, 2) if finished else 0.0,
        # Bot API calls to the people's chats that count against Telegram's flood limit.
        "calls_per_case": round(flood_calls / len(finished), 1) if finished else 0.0,
        "updates": int(buckets[-1][1]) if buckets else 0,
        "p50_ms": round(1000 * percentile_from_histogram(buckets, 0.50), 1),
        "p95_ms": round(1000 * percentile_from_histogram(buckets, 0.95), 1),
        "p99_ms": round(1000 * percentile_from_histogram(buckets, 0.99), 1),
        "with_telegram_p50_ms": round(1000 * percentile_from_histogram(total, 0.50), 1),
        "with_telegram_p95_ms": round(1000 * percentile_from_histogram(total, 0.95), 1),
        "photo_p50_ms": round(1000 * percentile_from_histogram(photos, 0.50), 1),
        "photo_p95_ms": round(1000 * percentile_from_histogram(photos, 0.95), 1),
        "bot_cpu_s": round(bot_cpu, 1),
        "bench_cpu_s": round(sum(psutil.Process().cpu_times()[:2]), 1),
        "rss_mb": round(rss, 1),
        "exit_status": status,
        "api_concurrency": api_concurrency,
        "think_s": think,
    }


async def main_async(args: argparse.Namespace) -> None:
    counts = [int(n) for n in args.people.split(",")]
    curve = []
    async with modelderm_process(args.latency) as api_url, database_server(args) as server:
        for count in counts:
            result = await run_once(
                count, api_url, args.api_concurrency, args.timeout, args.think, server
            )
            result["database"] = args.database
            result["api_latency_s"] = args.latency
            curve.append(result)
            print(json.dumps(result), flush=True)
    headline = next((r for r in curve if r["people"] == 200), curve[-1])
    summary = {k: v for k, v in headline.items()}
    summary["bench"] = "load"
    summary["ok"] = all(
        r["completed"] == r["started"] and r["p95_ms"] < 100 and r["rss_mb"] < 300 for r in curve
    )
    if len(curve) > 1:
        summary["curve"] = [
            {
                k: r[k]
                for k in (
                    "people",
                    "completed",
                    "cases_per_s",
                    "calls_per_case",
                    "p95_ms",
                    "with_telegram_p95_ms",
                    "rss_mb",
                )
            }
            for r in curve
        ]
    print(json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", default="200", help="comma-separated counts, e.g. 50,200,800")
    parser.add_argument("--latency", type=float, default=1.0, help="fake API answer time, s")
    parser.add_argument("--api-concurrency", type=int, default=4, help="the bot's API_CONCURRENCY")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds a person takes per step (0: none)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run at most")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server to use (postgresql+asyncpg://...); by default one is started",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
