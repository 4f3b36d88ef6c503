"""The bot's own handling time leaves out the time spent waiting for Telegram's file server."""

from __future__ import annotations

from bot.runtime import metrics
from bot.runtime.metrics import MeasuredRequest
from tests.fakes.telegram_server import FakeTelegram


async def test_file_downloads_count_as_time_in_telegram_and_api_calls_are_left_to_the_limiter() -> (
    None
):
    async with FakeTelegram() as telegram:
        telegram.file_delay = 0.3
        stored = telegram.files.add(b"a photo", "photos", ".jpg")
        request = MeasuredRequest()
        await request.initialize()
        in_telegram = [0.0]
        token = metrics._telegram_seconds.set(in_telegram)
        try:
            data = await request.retrieve(
                f"{telegram.base_file_url}{telegram.token}/{stored.file_path}"
            )
            downloading = in_telegram[0]
            # A Bot API call (POST) is timed by MeasuredRateLimiter, which wraps it: not twice.
            await request.post(f"{telegram.base_url}{telegram.token}/getMe")
        finally:
            metrics._telegram_seconds.reset(token)
            await request.shutdown()
    assert data == b"a photo"
    assert downloading >= 0.3
    assert in_telegram[0] == downloading
