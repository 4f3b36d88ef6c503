"""The result in the person's chat, exactly once, and every delivery ends.

The result replaces the case's "Analysing…" message (an edit): if the bot stops between the
edit and recording it, the redelivery makes the same edit, which Telegram answers with "message
is not modified", the proof that it was made. Edits do not notify, so when the result comes late
(after the person was told to wait, or long after the press) a short new message follows that
says so, replying to the result so that one tap shows it. It follows the recorded delivery, so
a crash can at worst lose that notice, never show the result twice. (A late result sent as a new
message of its own, with "Analysing…" pointing at it, cannot be made safe: after a crash in its
send nothing tells whether it arrived, and the fault benchmark caught such results twice.)

Only without a status message to edit is the result a new message, recorded as attempted before
it is sent and never sent twice. The card follows the text, claimed before it is sent. Each
failure is sorted: a person who blocked the bot or a chat that is gone ends the delivery at
once; anything else is tried again later, a bounded number of times (bot/db/delivery.py keeps
the record).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, TelegramError

from bot.db.claims import Claim
from bot.db.database import Database
from bot.db.delivery import (
    Delivery,
    DeliveryWay,
    claim_delivery,
    claim_due_deliveries,
    claim_new_message,
    mark_delivered,
    record_delivery_failure,
)
from bot.db.follow_ups import FollowUpPair, follow_up_pair
from bot.db.models import DeliveryFailure
from bot.domain.advice import AdviceRules, advise
from bot.domain.follow_up import CheckSummary
from bot.domain.result import CaseResult
from bot.i18n import speaking
from bot.i18n.texts import text
from bot.services.uploads import Uploads
from bot.views.follow_up import comparison_lines
from bot.views.keyboards import result_keyboard
from bot.views.result import render_result
from bot.views.result_card import send_result_card

log = logging.getLogger(__name__)

# A result not recorded as delivered this long after a try is tried again; each later try waits
# twice as long as the one before, up to REDELIVER_MAX_S, for at most MAX_DELIVERY_ATTEMPTS.
REDELIVER_AFTER_S = 60.0
REDELIVER_MAX_S = 3600.0
MAX_DELIVERY_ATTEMPTS = 8
# A result ready this long after the press comes as a new message: the person may have left.
LATE_RESULT_AFTER_S = 120.0
# Results the redelivery job tries per round, the longest due first.
REDELIVERY_BATCH = 20

# Links name the conditions; a preview of the first would bury the advice.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_CHAT_GONE = ("chat not found", "user not found", "peer_id_invalid", "bot was kicked")
_CANNOT_EDIT = (
    "message to edit not found",
    "message can't be edited",
    "there is no text in the message to edit",
    "message_id_invalid",
)


def redelivery_delay(attempt: int) -> dt.timedelta:
    """How long after the `attempt`th try (0: the completion) the next one is due."""
    return dt.timedelta(seconds=min(REDELIVER_MAX_S, REDELIVER_AFTER_S * 2 ** max(0, attempt - 1)))


def _gives_up(exc: TelegramError) -> DeliveryFailure | None:
    """The failures that no later try can get past."""
    message = exc.message.lower()
    if isinstance(exc, Forbidden):
        return DeliveryFailure.CHAT_GONE if "deactivated" in message else DeliveryFailure.BLOCKED
    if isinstance(exc, ChatMigrated):
        return DeliveryFailure.CHAT_GONE
    if isinstance(exc, BadRequest):
        if "message is too long" in message:
            return DeliveryFailure.TOO_LONG
        if any(sign in message for sign in _CHAT_GONE):
            return DeliveryFailure.CHAT_GONE
    return None


def _surely_not_sent(exc: TelegramError) -> bool:
    # A timeout or a broken connection may come after Telegram sent the message.
    return not isinstance(exc, NetworkError) or isinstance(exc, BadRequest)


class _Ended(Exception):
    """The delivery ended without showing anything now (given up, recorded as such)."""


class ResultDelivery:
    """Brings results to the people who sent the checks (`deliver`), and tries again those whose
    delivery was cut short (`redeliver`)."""

    def __init__(
        self,
        database: Database,
        uploads: Uploads,
        advice_rules: AdviceRules,
        *,
        top: int,
        clinic_on: bool,
        claim: Claim,
        zone: dt.tzinfo,
        protect: bool,
        reminder_choices: Sequence[float] = (),
    ) -> None:
        """`zone`: the TIMEZONE the result dates the check in. `protect`: PROTECT_RESULTS, the
        result and its card cannot be forwarded or saved (Telegram's protect_content).
        `reminder_choices`: FOLLOW_UP_AFTER_DAYS, offered under results that say to watch it."""
        self.database, self.uploads, self.advice_rules = database, uploads, advice_rules
        self.claim = claim
        self.top, self.zone, self.protect = top, zone, protect
        self.reminder_choices = tuple(reminder_choices)
        # Cases this process is delivering now: a redelivery round that comes due meanwhile
        # (a slow send) must not start a second try beside it (claims only fence other processes).
        self._delivering: set[uuid.UUID] = set()
        # Triage by the clinic is on: a result the clinic's queue took says a clinician will look.
        self.clinic_on = clinic_on

    async def deliver(
        self, bot: Bot, public_id: uuid.UUID, result: CaseResult | None = None
    ) -> None:
        """One try at bringing the case's result to the person; records how it went.

        `result`: the result as its analysis just built it; None for a redelivery, which builds
        it from what the claim of the try read.
        """
        if public_id in self._delivering:
            return
        self._delivering.add(public_id)
        try:
            await self._deliver(bot, public_id, result)
        finally:
            self._delivering.discard(public_id)

    async def _deliver(self, bot: Bot, public_id: uuid.UUID, result: CaseResult | None) -> None:
        plan = await self.database.run(
            claim_delivery,
            public_id,
            retry_in=redelivery_delay,
            max_attempts=MAX_DELIVERY_ATTEMPTS,
            late_after=dt.timedelta(seconds=LATE_RESULT_AFTER_S),
            claim=self.claim,
        )
        if plan is None:
            return
        if result is None:
            result = CaseResult(
                public_id=plan.public_id,
                chat_id=plan.chat_id,
                language=plan.language,
                diagnosis=plan.diagnosis,
                advice=advise(plan.diagnosis, plan.questionnaire, self.advice_rules),
                clinic_queued=plan.clinic_queued,
                questionnaire=plan.questionnaire,
                patient_ref=plan.patient_ref,
                checked_at=plan.checked_at,
                for_someone_else=plan.for_someone_else,
            )
        pair = await self.database.run(follow_up_pair, public_id)
        with speaking(result.language):
            body = self._result_text(plan, result, self._comparison(pair, result))
            keyboard = result_keyboard(result, reminders=self.reminder_choices)
            try:
                if plan.way is DeliveryWay.EDIT:
                    edited = await self._edit_in(bot, plan, body, keyboard)
                else:
                    edited = False
                    await self._send_new(bot, plan, body, keyboard)
            except _Ended:
                return
            except TelegramError as exc:
                await self._failed(plan, exc, new_message=plan.way is DeliveryWay.NEW_MESSAGE)
                return
            send_card = await self.database.run(mark_delivered, public_id)
            if edited and plan.late:
                await _notify(bot, plan)
            if send_card:
                await self._send_card(bot, result)

    def _comparison(self, pair: FollowUpPair | None, result: CaseResult) -> list[str]:
        """A follow-up's result set beside the check it follows (none for a first check)."""
        if pair is None:
            return []
        earlier = pair.earlier
        before = CheckSummary(
            earlier.checked_at,
            advise(earlier.diagnosis, earlier.questionnaire, self.advice_rules).tier,
            earlier.questionnaire,
        )
        now = CheckSummary(result.checked_at, result.advice.tier, result.questionnaire)
        return comparison_lines(before, now, self.zone)

    def _result_text(self, plan: Delivery, result: CaseResult, comparison: list[str]) -> str:
        # What changed since the earlier check is said first; a clinician's word to come belongs
        # with what to do now, not below the disclaimer.
        clinic = self.clinic_on and result.clinic_queued
        notes = [*comparison, *([text("triage_result_note")] if clinic else [])]
        body = render_result(result, zone=self.zone, top=self.top, after_headline=notes)
        if plan.late:
            body = f"{text('pending_result_intro')}\n\n{body}"
        return body

    async def _edit_in(
        self, bot: Bot, plan: Delivery, body: str, keyboard: InlineKeyboardMarkup
    ) -> bool:
        """Make "Analysing…" the result (True), or send it once as a new message when that message
        is gone or too old to edit (False)."""
        assert plan.status_message_id is not None
        try:
            await bot.edit_message_text(
                body,
                chat_id=plan.chat_id,
                message_id=plan.status_message_id,
                reply_markup=keyboard,
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as exc:
            message = exc.message.lower()
            if "message is not modified" in message:
                return True  # made by an earlier try
            if not any(sign in message for sign in _CANNOT_EDIT):
                raise
            log.info(
                "status message of case %s cannot be edited; sending the result", plan.public_id
            )
        else:
            return True
        allowed = await self.database.run(claim_new_message, plan.public_id)
        if not allowed:
            # A new message was attempted before, and there is no message left to edit.
            await self.database.run(
                record_delivery_failure,
                plan.public_id,
                "status message gone after a result message may have been sent",
                give_up=DeliveryFailure.MAYBE_SENT,
                not_sent=False,
                max_attempts=MAX_DELIVERY_ATTEMPTS,
            )
            raise _Ended
        try:
            await self._send_new(bot, plan, body, keyboard)
        except TelegramError as exc:
            await self._failed(plan, exc, new_message=True)
            raise _Ended from exc
        return False

    async def _send_new(
        self, bot: Bot, plan: Delivery, body: str, keyboard: InlineKeyboardMarkup
    ) -> None:
        # An edit cannot set protect_content: the "Analysing…" it becomes was sent with it.
        await bot.send_message(
            plan.chat_id,
            body,
            reply_markup=keyboard,
            link_preview_options=NO_PREVIEW,
            protect_content=self.protect,
        )

    async def _failed(self, plan: Delivery, exc: TelegramError, *, new_message: bool) -> None:
        reason = _gives_up(exc)
        log.warning(
            "result of case %s not delivered (try %d): %s%s",
            plan.public_id,
            plan.attempt,
            exc,
            f"; given up: {reason}" if reason else "",
        )
        await self.database.run(
            record_delivery_failure,
            plan.public_id,
            f"telegram: {exc}",
            give_up=reason,
            not_sent=new_message and _surely_not_sent(exc),
            max_attempts=MAX_DELIVERY_ATTEMPTS,
        )

    async def _send_card(self, bot: Bot, result: CaseResult) -> None:
        photo = result.card_photo
        if photo is None:
            photo = await self.uploads.first_photo(bot, result.public_id)
        if photo is None:
            return
        await send_result_card(
            bot, result.chat_id, result, photo, self.top, zone=self.zone, protect=self.protect
        )

    async def redeliver(self, bot: Bot) -> None:
        """Results whose next try is due (a crash, a Telegram outage), the longest due first."""
        due = await self.database.run(claim_due_deliveries, self.claim, limit=REDELIVERY_BATCH)
        for public_id in due:
            try:
                await self.deliver(bot, public_id)
            except Exception:
                # The others of this round still get their try.
                log.exception("redelivery of case %s failed", public_id)


async def _notify(bot: Bot, plan: Delivery) -> None:
    """The late result was edited in silently: say it has come, pointing at it."""
    assert plan.status_message_id is not None
    with contextlib.suppress(TelegramError):
        await bot.send_message(
            plan.chat_id,
            text("result_ready"),
            reply_parameters=ReplyParameters(
                plan.status_message_id, allow_sending_without_reply=True
            ),
        )
