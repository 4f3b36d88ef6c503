"""The clinic's desk: queue completed cases, post them once, deliver decisions, remind.

Posting is exactly-once in effect: a case is queued in the transaction that completes it; the
album's message ids are stored as soon as it is sent and the card's id with `posted_at`, so a
retry after a Telegram failure or a restart sends only what is missing. One lock serialises
posting within the process (the bot polls, so there is one process). The one window left is a
crash between Telegram accepting a message and the database recording it: then that message is
sent again, which is better than a case the clinic never sees.

Consent is checked at the moment of each post, before the album and again before the card
(`store.claim_post`): a case whose person withdrew meanwhile is never posted, and an album it
already has is deleted. A case that leaves the bot (erased, purged) takes its copies in the group
with it (bot/services/clinic_copies.py).

Photos are posted as prepared for the AI (square crop, no metadata such as a GPS position,
which an image sent as a file may carry) but larger, as JPEG: the clinicians judge what the AI
judged. Re-sending Telegram's file ids would forward originals, and fails for images sent as
files.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid

from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.config import Settings
from bot.db import triage as store
from bot.db.base import utcnow
from bot.db.claims import Claim
from bot.db.consent import accepts_terms_in_force
from bot.db.database import Database
from bot.db.models import Case, ConsentRecord, TriageDecision, TriageDecisionKind, TriagePost
from bot.domain.advice import Advice, AdviceRules, advise
from bot.domain.diagnosis import Diagnosis
from bot.i18n import DEFAULT_LANGUAGE, speaking
from bot.i18n.texts import text
from bot.imaging import PhotoPreparer, PhotoRejected
from bot.services.clinic_copies import clear_clinic_copies
from bot.services.delivery import REDELIVER_AFTER_S
from bot.services.tasks import TaskRegistry
from bot.views.clinic_buttons import NEW_PHOTOS, TriageButton
from bot.views.clinic_card import card_keyboard, duration, render_card
from bot.views.result import short_case_id

log = logging.getLogger(__name__)

CLINIC_PHOTO_SIDE = 1024
CLINIC_PHOTO_QUALITY = 90
CLINICIAN_STATUSES = frozenset({"creator", "administrator", "member"})


class TriageDesk:
    """The clinic's side of the bot's services, when TRIAGE_CHAT_ID is set."""

    def __init__(
        self,
        database: Database,
        tasks: TaskRegistry,
        preparer: PhotoPreparer,
        advice_rules: AdviceRules,
        *,
        chat_id: int,
        clinician_ids: frozenset[int],
        reminder_after: dt.timedelta,
        top: int,
        claim: Claim,
        protect: bool,
    ) -> None:
        """`preparer`: the API's; the clinic's copies are made on its workers, larger.
        `protect`: PROTECT_CLINIC_POSTS, the album and card cannot be forwarded or saved."""
        self.database, self.tasks, self.advice_rules = database, tasks, advice_rules
        self.chat_id, self.clinician_ids = chat_id, clinician_ids
        self.reminder_after, self.top, self.protect = reminder_after, top, protect
        self.claim = claim
        self.photos = preparer.with_output(
            side=CLINIC_PHOTO_SIDE, fmt="jpeg", quality=CLINIC_PHOTO_QUALITY
        )
        # One post at a time within the process; other processes skip what this one claimed.
        self.posting = asyncio.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        database: Database,
        tasks: TaskRegistry,
        preparer: PhotoPreparer,
        advice_rules: AdviceRules,
        claim: Claim,
    ) -> TriageDesk | None:
        if settings.triage_chat_id is None:
            return None
        return cls(
            database,
            tasks,
            preparer,
            advice_rules,
            chat_id=settings.triage_chat_id,
            clinician_ids=frozenset(settings.triage_clinician_ids),
            reminder_after=dt.timedelta(seconds=settings.triage_reminder_after_s),
            top=settings.result_top_n,
            claim=claim,
            protect=settings.protect_clinic_posts,
        )

    @staticmethod
    def enqueue(session: Session, case: Case, advice: Advice) -> bool:
        """Queue a just-completed case, if its sender agreed to the clinic seeing it (part of
        the unit of work that completes it)."""
        consent = None
        if case.consent_record_id is not None:
            consent = session.get(ConsentRecord, case.consent_record_id)
        # With triage on, the terms in force say the clinic sees the cases: a case sent under
        # other terms (before triage was turned on, or before they changed) never goes there.
        if not accepts_terms_in_force(session, consent):
            return False
        store.enqueue(session, case, advice.tier.value)
        return True

    async def settled(self) -> None:
        """Wait for a post in progress: its card's id is recorded once the lock is free, so a
        reply or press on a card that just appeared finds its case."""
        async with self.posting:
            pass

    async def is_clinician(self, bot: Bot, user_id: int) -> bool:
        if user_id in self.clinician_ids:
            return True
        try:
            member = await bot.get_chat_member(self.chat_id, user_id)
        except TelegramError:
            return False
        return member.status in CLINICIAN_STATUSES

    def render(
        self,
        session: Session,
        post: TriagePost,
        *,
        choosing: bool = False,
        superseded: bool = False,
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The card's text and buttons from what is stored now (inside a unit of work)."""
        case = post.case
        session.refresh(case, ["photos"])
        diagnosis = case.result or Diagnosis((), None, None, None)
        decisions = store.decisions_of(session, post.case_id, post.round)
        body = render_card(
            post,
            case,
            diagnosis,
            advise(diagnosis, case.questionnaire, self.advice_rules),
            decisions,
            top=self.top,
            now=utcnow(),
            superseded=superseded,
        )
        return body, card_keyboard(post, choosing=choosing, superseded=superseded)

    def post_soon(self, bot: Bot) -> None:
        """Post waiting cases now rather than at the job's next run."""
        self.tasks.spawn(self.post_waiting(bot), name="triage-post")

    async def post_waiting(self, bot: Bot) -> None:
        # Posted right after a result, this task inherits the person's language; the clinic
        # reads its group in the bot's default language whoever's case it is.
        with speaking(DEFAULT_LANGUAGE):
            await self._post_waiting(bot)
        # Copies of cases that left the bot, and a half post whose consent ended just now
        # (outside the lock: presses on cards wait for it, and deleting may wait for Telegram's
        # flood limit).
        await clear_clinic_copies(bot, self.database)

    async def _post_waiting(self, bot: Bot) -> None:
        async with self.posting:
            waiting = await self.database.run(store.claim_unposted, self.claim)
            for post_id in waiting:
                try:
                    await self._post_one(bot, post_id)
                except TelegramError as exc:
                    log.warning("triage: case not posted yet (%s); will retry", exc)
                    await self.database.run(store.record_post_failure, post_id, str(exc))
                except Exception as exc:  # one broken case must not hold up the others
                    log.exception("triage: posting a case failed")
                    await self.database.run(store.record_post_failure, post_id, repr(exc))

    async def _post_one(self, bot: Bot, post_id: int) -> None:
        # Consent is claimed again before each message: one withdrawn meanwhile stops the post.
        post = await self.database.run(
            store.claim_post, post_id, chat_id=self.chat_id, claim=self.claim
        )
        if post is None:
            return
        public_id = post.case.public_id
        if post.album_message_ids is None:
            file_ids = [photo.file_id for photo in post.case.accepted_photos]
            album = await self._send_album(bot, file_ids)
            await self.database.run(
                store.record_album, post_id, public_id, album, chat_id=self.chat_id
            )

        def claim_card(session: Session) -> tuple[str, InlineKeyboardMarkup | None] | None:
            claimed = store.claim_post(session, post_id, chat_id=self.chat_id, claim=self.claim)
            return None if claimed is None else self.render(session, claimed)

        card_view = await self.database.run(claim_card)
        if card_view is None:
            return
        body, keyboard = card_view
        card = await bot.send_message(
            self.chat_id, body, reply_markup=keyboard, protect_content=self.protect
        )
        await self.database.run(
            store.record_card, post_id, public_id, card.message_id, chat_id=self.chat_id
        )

    async def _send_album(self, bot: Bot, file_ids: list[str]) -> list[int]:
        photos: list[bytes] = []
        for file_id in file_ids:
            try:
                telegram_file = await bot.get_file(file_id)
                data = bytes(await telegram_file.download_as_bytearray())
                photos.append((await self.photos.prepare(data)).data)
            except (BadRequest, PhotoRejected) as exc:
                # Gone from Telegram or unreadable now: the card still goes, without this photo.
                log.warning("triage: a photo could not be prepared for the clinic: %s", exc)
        if not photos:
            return []
        if len(photos) == 1:
            sent = await bot.send_photo(self.chat_id, photos[0], protect_content=self.protect)
            return [sent.message_id]
        messages = await bot.send_media_group(
            self.chat_id, [InputMediaPhoto(p) for p in photos], protect_content=self.protect
        )
        return [message.message_id for message in messages]

    async def deliver_decision(
        self,
        bot: Bot,
        decision: TriageDecision,
        public_id: uuid.UUID,
        chat_id: int,
        post: TriagePost,
    ) -> None:
        """Tell the person the decision, in plain words, and record that they were told."""
        body = text(
            f"triage_to_person_{decision.decision.value}", case=short_case_id(str(public_id))
        )
        if decision.changed:
            body = f"{text('triage_changed_prefix')}\n\n{body}"
        try:
            await bot.send_message(chat_id, body, reply_markup=person_keyboard(post))
        except Forbidden:
            # Blocked the bot: retrying cannot help; the clinic's record stands.
            log.warning(
                "triage: the person blocked the bot; decision %d not delivered", decision.id
            )
        await self.database.run(store.mark_decision_delivered, decision.id)

    async def run_job(self, bot: Bot) -> None:
        """Repeating: post what is waiting (and delete the copies of cases that left), deliver
        lost decisions, remind the group."""
        await self.post_waiting(bot)
        # A decision not marked delivered by then was lost in sending, like a result.
        cutoff = utcnow() - dt.timedelta(seconds=REDELIVER_AFTER_S)
        lost, posts = await self.database.run(_lost_decisions, cutoff)
        for item in lost:
            post = posts[item.post_id]
            if post is not None:
                with contextlib.suppress(TelegramError):
                    await self.deliver_decision(
                        bot, item.decision, item.public_id, item.telegram_user_id, post
                    )
        await self.remind(bot)

    async def remind(self, bot: Bot) -> None:
        now = utcnow()
        due = [
            (post.id, post.card_message_id, post.case.public_id, post.waiting_since)
            for post in await self.database.run(
                store.claim_due_reminders, self.claim, after=self.reminder_after, now=now
            )
        ]
        for post_id, card_id, public_id, since in due:
            body = text(
                "triage_reminder",
                case=short_case_id(str(public_id)),
                waited=duration((now - since).total_seconds()),
            )
            try:
                await bot.send_message(
                    self.chat_id,
                    body,
                    reply_to_message_id=card_id,
                    allow_sending_without_reply=True,
                )
            except TelegramError as exc:
                log.warning("triage: reminder not sent (%s)", exc)
                continue
            await self.database.run(store.mark_reminded, post_id, now=now)


def person_keyboard(post: TriagePost) -> InlineKeyboardMarkup | None:
    if post.decision is not TriageDecisionKind.BETTER_PHOTOS:
        return None
    data = TriageButton(NEW_PHOTOS, post.id, post.round, post.decisions_in_round).encode()
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text("triage_button_new_photos"), callback_data=data)]]
    )


def _lost_decisions(
    session: Session, cutoff: dt.datetime
) -> tuple[list[store.Undelivered], dict[int, TriagePost | None]]:
    """Decisions never delivered, made before `cutoff`, and their posts."""
    lost = store.undelivered_decisions(session, decided_before=cutoff)
    return lost, {item.post_id: store.get_post(session, item.post_id) for item in lost}
