"""Queries that filter by time or status, on a database of many cases: how long each one takes.

    PYTHONPATH=. python tests/perf/bench_queries.py [--cases 200000] [--revision head]
                                                   [--repeat 15]

A SQLite file is migrated to --revision (e.g. 0006, before the indexes of 0007, to compare) and
filled with --cases cases of 20 000 people over 200 days (tests/db/filtered_queries.py: most
completed, some failed, cancelled, being collected or waiting for a retry, a fifth of the
completed ones posted to a clinic and decided, a day of fair-use marks). Then each query of the
bot that filters by time or status runs --repeat times, each as the unit of work the bot runs
(through bot.db.database.Database, on this thread, as on the bot's event loop). SQLite runs on
the loop's thread, so a query's time is time in which no chat is answered.

Reported: one JSON line with the median and the slowest time of each query in milliseconds
("stats" is /stats: its six counts in one unit of work), and "slowest_ms", the slowest median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.migrate import alembic_config
from tests.db.filtered_queries import fill, queries


def _migrate(url: str, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bot.sqlite3'}"
        await asyncio.to_thread(_migrate, url, args.revision)
        now = utcnow()
        async with Database.open(url) as database:
            started = time.perf_counter()
            await database.run(fill, args.cases, now)
            filled_s = time.perf_counter() - started
            timings: dict[str, dict[str, float]] = {}
            for name, query in queries(now).items():
                taken = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    await database.run(query)
                    taken.append((time.perf_counter() - started) * 1000)
                timings[name] = {
                    "p50_ms": round(statistics.median(taken), 2),
                    "max_ms": round(max(taken), 2),
                }
    return {
        "bench": "queries",
        "cases": args.cases,
        "revision": args.revision,
        "fill_s": round(filled_s, 1),
        "queries": timings,
        "slowest_ms": max(t["p50_ms"] for t in timings.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--revision", default="head", help="migrate to this revision only")
    parser.add_argument("--repeat", type=int, default=15)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
