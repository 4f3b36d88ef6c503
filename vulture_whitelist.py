"""Names vulture (`vulture bot vulture_whitelist.py --min-confidence 80`) takes for unused but
that are used: each is a parameter a library's callback protocol requires, even where the bot's
callback does not read it. Never imported; each line names the place and the reason."""

# ruff: noqa: B018, F821

connection_record  # bot/db/database.py: SQLAlchemy's "connect" event passes it
exc_info  # bot/db/database.py: __aexit__ receives the exception, re-raised by returning None
exc_type  # bot/imaging/preparer.py: __aexit__ protocol
tb  # bot/imaging/preparer.py: __aexit__ protocol
flush_context  # bot/runtime/metrics.py: SQLAlchemy's "after_flush" event passes it
previous_transaction  # bot/runtime/metrics.py: SQLAlchemy's "after_soft_rollback" event
