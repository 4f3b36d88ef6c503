"""From "Send for analysis" to the result in the chat, and the retries when the API is down.

Photos wait as Telegram file ids until now; they are downloaded, prepared and sent as one case.
If the API fails after all its own retries, the case is parked as pending and a repeating job
tries again with backoff, also after a restart, and delivers the result to the same chat: the
person never sends anything twice. Consent is checked again at every submission, because it may
have been withdrawn while the case waited.

Everything is said in the person's stored language, also from the retry job (no update there).
The text result goes first; the result card follows (see bot.conversation.card), drawn from the
first prepared photo, which is kept in memory only until the card is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid

from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from bot.advice import advise
from bot.conversation.card import send_result_card
from bot.conversation.common import BotContext, chat_id_of, language_of, say, user_id_of
from bot.conversation.gate import show_gate
from bot.conversation.result import render_result
from bot.conversation.screens import new_case_keyboard
from bot.conversation.texts import text
from bot.db.base import utcnow
from bot.db.cases import (
    cancel_case,
    due_for_retry,
    get_case,
    mark_completed,
    mark_delivered,
    mark_failed,
    mark_pending_retry,
    mark_submitted,
    undelivered_results,
)
from bot.db.errors import ConsentRequired, StorageError
from bot.db.users import language_of_user
from bot.fairuse import api_turn, refuse_if_over_limit
from bot.i18n import speaking
from bot.imaging import PhotoRejected
from bot.modelderm.client import PhotoUpload
from bot.modelderm.diagnosis import Diagnosis
from bot.modelderm.errors import DiagnosisFailed
from bot.questionnaire import Questionnaire
from bot.services import Services
from bot.triage import desk as triage

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.5
# A result not marked delivered this long after completion was lost in sending; send it again.
REDELIVER_AFTER_S = 60.0


async def submit(update: Update, context: BotContext, public_id: uuid.UUID) -> None:
    """The person pressed "Send for analysis" on the summary."""
    chat_id = chat_id_of(update)
    if await refuse_if_over_limit(context, chat_id, user_id_of(update), at_submission=True):
        return
    try:
        async with context.services.sessions.begin() as session:
            case = await mark_submitted(session, public_id)
            count = len(case.photos)
    except ConsentRequired:
        await say(context, chat_id, "consent_needed")
        await show_gate(context, chat_id, language_of(update), renewing=True)
        return
    except StorageError:
        await say(context, chat_id, "analysis_busy")
        return
    status = await say(context, chat_id, "analysing", count=count)
    services = context.services
    work = analyse(context.bot, services, public_id, status_message_id=status.message_id)
    services.spawn(work, name=f"analyse-{public_id}")


async def _keep_typing(bot: Bot, chat_id: int) -> None:
    # Telegram shows "typing…" for about five seconds per action.
    while True:
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        await asyncio.sleep(TYPING_EVERY_S)


async def _uploads(
    bot: Bot, services: Services, owner: int, photos: list[tuple[str, str]]
) -> list[PhotoUpload]:
    """The case's photos as sent to the API: held since they arrived, or fetched again.

    `photos`: (file_id, file_unique_id) of each photo, in order; `owner`: who sent them.
    """
    uploads = []
    for file_id, file_unique_id in photos:
        prepared = services.held_photos.take(owner, file_unique_id)
        if prepared is None:
            telegram_file = await bot.get_file(file_id)
            data = bytes(await telegram_file.download_as_bytearray())
            prepared = await services.photos.prepare(data)
        uploads.append(PhotoUpload(prepared.data, prepared.mime_type, prepared.filename))
    return uploads


def next_attempt(services: Services, attempts: int) -> dt.datetime:
    settings = services.settings
    delay = min(settings.retry_max_s, settings.retry_base_s * 2 ** max(0, attempts - 1))
    return utcnow() + dt.timedelta(seconds=delay)


async def analyse(
    bot: Bot,
    services: Services,
    public_id: uuid.UUID,
    *,
    late: bool = False,
    status_message_id: int | None = None,
) -> None:
    """Send a submitted case's photos (held since they arrived, or fetched and prepared again)
    to the API; deliver the result or park the case."""
    async with services.sessions.begin() as session:
        case = await get_case(session, public_id)
        photos = [(photo.file_id, photo.file_unique_id) for photo in case.photos]
        questionnaire, chat_id, attempts = case.questionnaire, case.telegram_user_id, case.attempts
        language = await language_of_user(session, chat_id)
    with speaking(language):
        await _analyse(
            bot,
            services,
            public_id,
            photos,
            questionnaire,
            chat_id,
            attempts,
            late=late,
            status_message_id=status_message_id,
        )


async def _analyse(
    bot: Bot,
    services: Services,
    public_id: uuid.UUID,
    photos: list[tuple[str, str]],
    questionnaire: Questionnaire,
    chat_id: int,
    attempts: int,
    *,
    late: bool,
    status_message_id: int | None,
) -> None:
    typing: asyncio.Task[None] | None = None
    diagnosis: Diagnosis | None = None
    retryable, error = True, ""
    card_photo: bytes | None = None
    try:
        uploads = await _uploads(bot, services, chat_id, photos)
        # The photo the card shows: the first one, exactly as the API received it.
        card_photo = uploads[0].data if uploads else None
        async with api_turn(bot, services.api_queue, chat_id, status_message_id, len(uploads)):
            # Only once it is our turn: chat actions count against Telegram's flood limits, and
            # people waiting in the queue see their place instead.
            typing = services.spawn(_keep_typing(bot, chat_id), name=f"typing-{public_id}")
            diagnosis = await services.api.diagnose(uploads, questionnaire, case_id=str(public_id))
    except DiagnosisFailed as exc:
        retryable, error = exc.retryable, str(exc)
    except PhotoRejected as exc:
        retryable, error = False, f"photo refused at submission: {exc.reason}"
    except BadRequest as exc:
        # Telegram no longer has the file (ids expire after a long time): retrying cannot help.
        retryable, error = False, f"telegram: {exc.message}"
    except TelegramError as exc:
        error = f"telegram: {exc}"
    finally:
        if typing is not None:
            typing.cancel()
    if diagnosis is not None:
        await _complete(bot, services, public_id, chat_id, diagnosis, card_photo, late=late)
        return
    log.warning("case %s not analysed (attempt %d): %s", public_id, attempts, error)
    async with services.sessions.begin() as session:
        if retryable:
            await mark_pending_retry(session, public_id, error, next_attempt(services, attempts))
        else:
            await mark_failed(session, public_id, error)
    if not retryable:
        await bot.send_message(chat_id, text("analysis_failed"))
    elif attempts == 1:
        await bot.send_message(chat_id, text("pending"))


async def _complete(
    bot: Bot,
    services: Services,
    public_id: uuid.UUID,
    chat_id: int,
    diagnosis: Diagnosis,
    card_photo: bytes | None,
    *,
    late: bool,
) -> None:
    async with services.sessions.begin() as session:
        case = await mark_completed(session, public_id, diagnosis)
        # Queued in the same transaction: a completed case always reaches the clinic.
        queued = services.triage is not None and await services.triage.enqueue(
            session, case, advise(diagnosis, services.advice_rules)
        )
    await deliver(bot, services, public_id, chat_id, diagnosis, late=late, card_photo=card_photo)
    if queued:
        triage.post_soon(bot, services)


async def deliver(
    bot: Bot,
    services: Services,
    public_id: uuid.UUID,
    chat_id: int,
    diagnosis: Diagnosis,
    *,
    late: bool,
    card_photo: bytes | None = None,
) -> None:
    """Send the result, record that it was sent (so a restart does not send it again), then
    the card. A result resent after a restart has no photo in memory: it is fetched again."""
    with speaking(await services.stored_language(chat_id)):
        advice = advise(diagnosis, services.advice_rules)
        top = services.settings.result_top_n
        body = render_result(diagnosis, advice, str(public_id), top=top)
        if late:
            body = f"{text('pending_result_intro')}\n\n{body}"
        if note := await triage.result_note(services, public_id):
            body = f"{body}\n\n{note}"
        await bot.send_message(
            chat_id,
            body,
            reply_markup=new_case_keyboard(),
            # Links name the conditions; a preview of the first would bury the advice.
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        async with services.sessions.begin() as session:
            await mark_delivered(session, public_id)
        if card_photo is None:
            card_photo = await _first_photo(bot, services, public_id)
        if card_photo is not None:
            await send_result_card(bot, chat_id, card_photo, diagnosis, advice, str(public_id), top)


async def _first_photo(bot: Bot, services: Services, public_id: uuid.UUID) -> bytes | None:
    """The case's first photo prepared again, or None when Telegram no longer has it."""
    try:
        async with services.sessions.begin() as session:
            case = await get_case(session, public_id)
            first = [(photo.file_id, photo.file_unique_id) for photo in case.photos[:1]]
            owner = case.telegram_user_id
        uploads = await _uploads(bot, services, owner, first)
    except (TelegramError, PhotoRejected, StorageError):
        log.info("no photo for the card of case %s", public_id)
        return None
    return uploads[0].data if uploads else None


async def retry_pending(context: BotContext) -> None:
    """Repeating job: resubmit parked cases whose time has come; resend lost results."""
    services, bot = context.services, context.bot
    async with services.sessions.begin() as session:
        due = [case.public_id for case in await due_for_retry(session)]
    for public_id in due:
        try:
            async with services.sessions.begin() as session:
                await mark_submitted(session, public_id)
        except ConsentRequired:
            await _drop_without_consent(bot, services, public_id)
            continue
        except StorageError:
            continue  # cancelled or taken by another worker meanwhile
        services.spawn(analyse(bot, services, public_id, late=True), name=f"retry-{public_id}")
    cutoff = utcnow() - dt.timedelta(seconds=REDELIVER_AFTER_S)
    async with services.sessions.begin() as session:
        lost = [
            (case.public_id, case.telegram_user_id, case.result)
            for case in await undelivered_results(session, completed_before=cutoff)
        ]
    for public_id, chat_id, diagnosis in lost:
        if diagnosis is not None:
            with contextlib.suppress(TelegramError):
                await deliver(bot, services, public_id, chat_id, diagnosis, late=True)


async def _drop_without_consent(bot: Bot, services: Services, public_id: uuid.UUID) -> None:
    async with services.sessions.begin() as session:
        case = await cancel_case(session, public_id)
        chat_id = case.telegram_user_id
    with speaking(await services.stored_language(chat_id)), contextlib.suppress(TelegramError):
        await bot.send_message(chat_id, text("pending_dropped_no_consent"))
