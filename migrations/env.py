"""Alembic environment, for SQLite and PostgreSQL.

The database URL is, in order: `config.attributes["database_url"]` (set by `bot.db.migrate`),
`alembic -x url=...`, a `sqlalchemy.url` option if an ini file is given, else the bot's own
settings (DATABASE_URL from the environment or .env). From the repository root the plain
`alembic` command works too (it reads `[tool.alembic]` in pyproject.toml).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.config import load_settings
from bot.db.database import with_connection
from bot.db.migrate import MIGRATION_LOCK, compared_on
from bot.db.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or context.get_x_argument(True).get("url")
    if not url and config.file_config.has_section(config.config_ini_section):
        url = config.get_main_option("sqlalchemy.url")
    return str(url) if url else load_settings().database_url


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=True,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection, include_object=compared_on(connection.dialect.name))
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting at once on a new database migrate one after the other: the
            # second waits here, then finds the schema at head (held until the commit).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Foreign keys were not enforced while tables were rebuilt: prove nothing dangles.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    # The bot's own connection rules: the same SQLite pragmas and directory creation as at run
    # time (SQLite through its synchronous driver; PostgreSQL through asyncpg), except that
    # SQLite's foreign keys are off, so that batch mode's table rebuilds cascade to nothing.
    with_connection(_database_url(), _run, foreign_keys=False)
