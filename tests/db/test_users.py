"""People's profiles: the stored languages of many people in one read."""

from __future__ import annotations

from bot.db.users import languages_of_users, set_user_language, touch_user
from tests.db.helpers import Sessions


async def test_languages_of_many_people_in_one_read(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await set_user_language(session, 7_000_000_001, "ko")
        await touch_user(session, 7_000_000_002, "es")
        await touch_user(session, 7_000_000_003)  # no language yet
    async with sessions.begin() as session:
        languages = await languages_of_users(
            session, [7_000_000_001, 7_000_000_002, 7_000_000_003, 7_000_000_004]
        )
    assert languages == {7_000_000_001: "ko", 7_000_000_002: "es"}
