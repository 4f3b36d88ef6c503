"""The real process at LOG_LEVEL=DEBUG: no secret and nothing a person typed reaches the log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conversation.flows import WAIT, agree, send_photos
from tests.conversation.test_e2e_steps import skip_rest
from tests.fakes.modelderm_server import FakeModelDerm
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_user import FakeGroup, FakeUser
from tests.ops.process import BotProcess, bot_environment, free_port
from tests.perf.people import wait_healthy

WEBHOOK_SECRET = "hook-secret_0123456789abcdefXYZ"
API_KEY = "private-api-key-4f1c9a"
EXPORT_KEY = "export-key-not-for-logs-3a9"
REFERENCE = "PT-4711-Zed"
BODY_SITE = "behind the left knee"
BIRTH_YEAR = "1937"
CLINICIAN_TEXT = "Please call us on 555-0199"
PERSON_TEXT = "Thanks, doctor Quux"


async def test_a_whole_check_at_debug_logs_no_secret_and_no_personal_data(
    tmp_path: Path,
    migrated_database: Callable[[str], Path],
    fake_telegram: FakeTelegram,
    modelderm_server: FakeModelDerm,
) -> None:
    database = migrated_database("bot")
    alice = FakeUser(fake_telegram, "Alice", last_name="Liddell", username="alice_skin")
    doctor = FakeUser(fake_telegram, "Gregory", last_name="Housemann", username="dr_gh")
    group = FakeGroup(fake_telegram, "Skin clinic triage", [doctor])
    in_group = doctor.in_chat(group)
    port = free_port()
    env = bot_environment(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        telegram_file_base_url=fake_telegram.base_file_url,
        modelderm_api_urls=modelderm_server.url,
        modelderm_api_key=API_KEY,
        database_url=f"sqlite+aiosqlite:///{database}",
        export_hash_key=EXPORT_KEY,
        telegram_mode="webhook",
        webhook_url="https://bot.example.org/telegram-hook",
        webhook_secret=WEBHOOK_SECRET,
        webhook_listen_port=port,
        triage_chat_id=group.id,
        triage_check_interval_s=0.3,
        album_quiet_s=0.3,
        log_level="DEBUG",
    )
    bot = BotProcess(tmp_path, env)
    await bot.start()
    try:
        async with httpx.AsyncClient() as http:
            await wait_healthy(http, port, bot)
        fake_telegram.deliver_to(f"http://127.0.0.1:{port}/telegram-hook")
        await agree(alice)
        await alice.press("Someone else's (they agreed)")
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send(REFERENCE)
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
        await alice.send(BIRTH_YEAR)
        await alice.wait_for("sex", timeout=WAIT)
        await alice.press("Female")
        await alice.wait_for("skin type", timeout=WAIT)
        await alice.press("Skip")
        await alice.wait_for("Where", timeout=WAIT)
        await alice.press("Other (type it)")
        await alice.wait_for("Please type where it is", timeout=WAIT)
        await alice.send(BODY_SITE)
        await alice.wait_for("itch", timeout=WAIT)
        await skip_rest(
            alice, ("hurt", "How long", "changed lately", "Please check before sending")
        )
        await alice.press("📤 Send for analysis")
        await alice.wait_for("AI estimate (check", timeout=WAIT)
        card = await in_group.wait_for(lambda m: "Case " in m.text and bool(m.buttons), WAIT)
        await in_group.send(CLINICIAN_TEXT, reply_to=card)
        relayed = await alice.wait_for("Message from the clinic", timeout=WAIT)
        await alice.send(PERSON_TEXT, reply_to=relayed)
        await in_group.wait_for("Answer from the person", WAIT)
    finally:
        status = await bot.stop()
    logged = bot.output()
    assert status == 0, logged[-3000:]
    # The log says what happened (third-party lines keep their templates) ...
    assert "setWebhook" in logged and "sendMessage" in logged and "DEBUG telegram" in logged
    # ... and holds no secret ...
    token = fake_telegram.token
    for secret in (token, token.split(":")[1], WEBHOOK_SECRET, API_KEY, EXPORT_KEY):
        assert secret not in logged, secret
    # ... nor anything that tells who the people are or what they typed.
    for personal in (
        "Alice",
        "Liddell",
        "alice_skin",
        "Gregory",
        "Housemann",
        "dr_gh",
        REFERENCE,
        BODY_SITE,
        CLINICIAN_TEXT,
        PERSON_TEXT,
    ):
        assert personal not in logged, personal
    for number in (BIRTH_YEAR, str(alice.id), str(doctor.id)):
        assert not re.search(rf"(?<![\d.]){number}(?![\d.])", logged), number
