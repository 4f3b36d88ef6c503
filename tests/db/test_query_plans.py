"""Every query that filters by time or status is served by an index, on SQLite and PostgreSQL.

The database holds a deployment's mix of cases (tests/db/filtered_queries.py); the statements are
the ones the repository functions really send (caught as they are executed), explained with their
own parameters. The plan must name the query's indexes; SQLite's must not read a big table whole
("SCAN"). PostgreSQL plans from statistics, so its tables are analysed first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event

from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.models import Base
from tests.db.filtered_queries import INDEXES, SMALL_TABLES, fill, queries

CASES = 20_000
_TABLES = re.compile(r"\b(" + "|".join(Base.metadata.tables) + r")\b")


@contextmanager
def _statements() -> Iterator[list[tuple[str, Any]]]:
    """The statements every engine sends meanwhile that read or change the bot's tables."""
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if _TABLES.search(statement) and not statement.lstrip().upper().startswith("INSERT"):
            caught.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", catch)
    try:
        yield caught
    finally:
        event.remove(Engine, "before_cursor_execute", catch)


def _explainer(dialect: str, statement: str, parameters: Any) -> Callable[[Connection], str]:
    def explain(connection: Connection) -> str:
        if dialect == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in rows)

    return explain


def _analyse(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE")


async def test_each_query_that_filters_by_time_or_status_uses_an_index(database: Database) -> None:
    now = utcnow()
    await database.run(fill, CASES, now)
    await database.run_on_connection(_analyse)
    for name, unit in queries(now).items():
        with _statements() as caught:
            await database.run(unit)
        assert caught, name
        plans = [
            await database.run_on_connection(_explainer(database.dialect, statement, parameters))
            for statement, parameters in caught
        ]
        shown = "\n".join(plans)
        for index in INDEXES[name]:
            assert re.search(index, shown), (name, index, shown)
        if database.dialect == "sqlite":
            scanned = set(re.findall(r"^SCAN (\w+)", shown, flags=re.MULTILINE))
            assert scanned <= SMALL_TABLES, (name, shown)
