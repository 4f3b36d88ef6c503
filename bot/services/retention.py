"""Retention kept by the bot itself: expired cases are purged daily, with the clinic's copies.

The consent text promises that finished cases are deleted after a while; an operator need not
remember a cron job for that. Purging is idempotent, so the job runs soon after every start
(PURGE_FIRST_S) and then every RETENTION_PURGE_INTERVAL_S: a bot restarted more often than
daily still purges. `python -m bot purge` does the same from the command line.
"""

from __future__ import annotations

import logging

from telegram import Bot

from bot.db.claims import Claim, give_back, take_lease
from bot.db.database import Database
from bot.db.retention import purge_expired_cases
from bot.services.clinic_copies import clear_clinic_copies

log = logging.getLogger(__name__)

PURGE_FIRST_S = 60.0
# The lease (bot/db/claims.py) a process holds while it purges.
PURGE_LEASE = "retention-purge"


async def purge_expired(
    bot: Bot,
    database: Database,
    *,
    retention_days: int,
    clinic_chat_id: int | None,
    claim: Claim,
) -> int | None:
    """Purge the cases past RETENTION_DAYS and delete their copies in the clinic's group; None
    when another process is purging now (one purge at a time, under the purge lease)."""
    if not await database.run(take_lease, PURGE_LEASE, claim):
        log.info("retention: another process is purging; this one leaves it")
        return None
    try:
        return await _purge(bot, database, retention_days, clinic_chat_id)
    finally:
        await database.run(give_back, PURGE_LEASE, claim.holder)


async def _purge(
    bot: Bot, database: Database, retention_days: int, clinic_chat_id: int | None
) -> int:
    purged = await database.run(purge_expired_cases, retention_days, clinic_chat_id=clinic_chat_id)
    # Also copies left by an erasure or a `purge` command that could not reach Telegram.
    cleared = await clear_clinic_copies(bot, database)
    log.info(
        "retention: purged %d case(s) finished more than %d day(s) ago; clinic's group: "
        "%d message(s) deleted, %d kept by Telegram (the clinic was asked), %d case(s) to retry",
        purged,
        retention_days,
        cleared.deleted,
        cleared.stayed,
        cleared.waiting,
    )
    return purged
