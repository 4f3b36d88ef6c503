"""Deleting the clinic's copies of a case that left the bot, and saying so where Telegram refuses.

The rows come from bot/db/clinic_copies.py, recorded when the case was erased or purged (or its
consent ended between its album and its card). Each is worked through in steps that may all be
repeated: deleting a message twice is harmless ("message to delete not found" means it is gone),
editing the card to the same text is refused as "not modified". The one step that must not be
repeated, asking the clinic, is recorded as soon as it is done.

Telegram lets a bot delete messages in a group only while they are younger than 48 hours, and
other members' messages only as an administrator. What stays is made harmless where the bot can
(the card is edited down to its short id), the clinic is asked in the group to delete it, and
the person is told. A row whose steps keep failing for other reasons (Telegram unreachable) is
given up after GIVE_UP_AFTER, so that every row ends.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import Enum

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from bot.db import clinic_copies as store
from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.models import ClinicCopy, ClinicCopyReason
from bot.i18n import DEFAULT_LANGUAGE
from bot.i18n.texts import text_in
from bot.views.result import short_case_id

log = logging.getLogger(__name__)

GIVE_UP_AFTER = dt.timedelta(hours=24)
# Telegram's answer for a message that is already gone.
_GONE = "message to delete not found"
# What the person is told, by why the case left: nothing when nobody asked for it.
_NOTE = {
    ClinicCopyReason.ERASED: "clinic_copy_stays_erased",
    ClinicCopyReason.EXPIRED: "clinic_copy_stays_expired",
}


class _Outcome(Enum):
    DONE = "done"  # deleted or sent (or gone already)
    REFUSED = "refused"  # Telegram will not, now or later
    LATER = "later"  # Telegram could not answer now: try again


@dataclass
class Cleared:
    """What one run did, for the log and the `purge` command."""

    deleted: int = 0
    stayed: int = 0  # messages Telegram refused to delete (the clinic was asked)
    waiting: int = 0  # cases to try again later


async def clear_clinic_copies(bot: Bot, database: Database, *, limit: int | None = None) -> Cleared:
    """Work through the clinic's copies waiting to go (all of them, or the oldest `limit`);
    safe to run from several places at once."""
    cleared = Cleared()
    ids = await database.run(store.unclaimed, limit=limit)
    for copy_id in ids:
        copy = await database.run(store.claim, copy_id)
        if copy is None:
            continue  # another worker has it
        try:
            await _settle(bot, database, copy, cleared)
        except Exception:  # one broken row must not hold up the others; its claim lapses
            log.exception("clinic copies of a case could not be settled")
    return cleared


async def _settle(bot: Bot, database: Database, copy: ClinicCopy, cleared: Cleared) -> None:
    giving_up = utcnow() - copy.queued_at >= GIVE_UP_AFTER
    later: list[int] = []
    refused = list(copy.refused_ids)
    for message_id in copy.message_ids:
        outcome = await _delete(bot, copy.chat_id, message_id)
        if outcome is _Outcome.DONE:
            cleared.deleted += 1
        elif outcome is _Outcome.REFUSED:
            refused.append(message_id)
        else:
            later.append(message_id)
    if later and not giving_up:
        await _again(database, copy, cleared, message_ids=later, refused_ids=refused)
        return
    refused += later
    asked = copy.requested_at is not None
    if refused and not asked:
        outcome = await _ask_clinic(bot, copy, refused)
        if outcome is _Outcome.LATER and not giving_up:
            await _again(database, copy, cleared, message_ids=[], refused_ids=refused)
            return
        asked = outcome is _Outcome.DONE
        if asked:
            await database.run(
                store.save,
                copy.id,
                release=False,
                message_ids=[],
                refused_ids=refused,
                requested_at=utcnow(),
            )
    if refused and copy.notify_chat_id is not None and copy.reason in _NOTE:
        outcome = await _tell_person(bot, copy, asked=asked)
        if outcome is _Outcome.LATER and not giving_up:
            await _again(database, copy, cleared, message_ids=[], refused_ids=refused)
            return
    if refused:
        cleared.stayed += len(refused)
        log.warning(
            "clinic copies of case %s: %d message(s) stay in the group (%s)",
            copy.case_public_id,
            len(refused),
            "the clinic was asked to delete them" if asked else "the clinic could not be asked",
        )
    await database.run(store.finish, copy.id)


async def _again(
    database: Database,
    copy: ClinicCopy,
    cleared: Cleared,
    *,
    message_ids: list[int],
    refused_ids: list[int],
) -> None:
    cleared.waiting += 1
    await database.run(
        store.save,
        copy.id,
        release=True,
        message_ids=message_ids,
        refused_ids=refused_ids,
        attempts=copy.attempts + 1,
    )


async def _delete(bot: Bot, chat_id: int, message_id: int) -> _Outcome:
    try:
        await bot.delete_message(chat_id, message_id)
    except BadRequest as exc:
        if exc.message.lower().startswith(_GONE):
            return _Outcome.DONE
        return _Outcome.REFUSED  # too old, not the bot's and no admin right, chat gone
    except (Forbidden, ChatMigrated):
        return _Outcome.REFUSED  # the bot is no longer in that group
    except TelegramError as exc:
        log.info("clinic copy not deleted yet (%s)", exc)
        return _Outcome.LATER
    return _Outcome.DONE


async def _ask_clinic(bot: Bot, copy: ClinicCopy, refused: list[int]) -> _Outcome:
    """Scrub the cards that stay, then ask the clinic, answering what stays, to delete it."""
    case = short_case_id(str(copy.case_public_id))
    cards = [card for card in copy.card_ids if card in refused]
    for card in cards:
        try:
            await bot.edit_message_text(
                _clinic_text("triage_card_removed", case=case),
                chat_id=copy.chat_id,
                message_id=card,
                parse_mode=ParseMode.HTML,
                reply_markup=None,
            )
        except TelegramError as exc:  # not modified (a repeat), or gone: the request still goes
            log.info("clinic card not scrubbed (%s)", exc)
    try:
        await bot.send_message(
            copy.chat_id,
            _clinic_text("triage_copy_delete_request", case=case),
            parse_mode=ParseMode.HTML,
            reply_to_message_id=cards[-1] if cards else refused[0],
            allow_sending_without_reply=True,
        )
    except (BadRequest, Forbidden, ChatMigrated) as exc:
        log.warning("the clinic could not be asked to delete its copy (%s)", exc)
        return _Outcome.REFUSED
    except TelegramError as exc:
        log.info("the clinic not asked yet (%s)", exc)
        return _Outcome.LATER
    return _Outcome.DONE


async def _tell_person(bot: Bot, copy: ClinicCopy, *, asked: bool) -> _Outcome:
    assert copy.notify_chat_id is not None
    language = copy.language or DEFAULT_LANGUAGE
    case = short_case_id(str(copy.case_public_id))
    body = "\n\n".join(
        (
            text_in(language, _NOTE[copy.reason], case=case),
            text_in(language, "clinic_copy_asked" if asked else "clinic_copy_ask_them"),
        )
    )
    try:
        await bot.send_message(copy.notify_chat_id, body, parse_mode=ParseMode.HTML)
    except (BadRequest, Forbidden):
        return _Outcome.REFUSED  # blocked the bot, or the chat is gone: nobody to tell
    except TelegramError:
        return _Outcome.LATER
    return _Outcome.DONE


def _clinic_text(key: str, **values: str) -> str:
    # The clinic's group is addressed in the bot's default language, whoever's case it was.
    return text_in(DEFAULT_LANGUAGE, key, **values)
