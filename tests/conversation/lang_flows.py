"""The conversation's steps in any supported language: labels come from the catalogs.

The same flow as tests/conversation/flows.py, but every text a person reads or presses is looked
up with `text_in`, so a test runs unchanged in English, Korean and Spanish.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.i18n.texts import text_in
from tests.conversation.flows import WAIT, photo
from tests.fakes.telegram_user import ChatMessage, FakeUser

_TAG = re.compile(r"<[^>]+>")


def says(language: str, key: str, /, **values: Any) -> str:
    """The message as the person reads it: HTML tags gone, entities decoded."""
    return html.unescape(_TAG.sub("", text_in(language, key, **values)))


def first_line(language: str, key: str, /, **values: Any) -> str:
    return says(language, key, **values).splitlines()[0]


ANSWERS = (
    "sex_f",
    "skin_3",
    "site_arm",
    "severity_o",
    "severity_x",
    "onset_w",
    "q_change_no_change",
)


class Conversation:
    """One person going through a check in `language`."""

    def __init__(self, user: FakeUser, language: str) -> None:
        self.user = user
        self.language = language

    def says(self, key: str, /, **values: Any) -> str:
        return says(self.language, key, **values)

    async def press(self, key: str, message: ChatMessage | None = None) -> None:
        """Press the button `key` on `message`, or on the next message that has it."""
        label = self.says(key)
        if message is None:
            message = await self.user.wait_for(lambda m: label in m.buttons, timeout=WAIT)
        await self.user.press(label, message=message)

    async def agree(self) -> ChatMessage:
        """/start, then "I agree"; returns the "Whose skin?" question."""
        await self.user.send("/start")
        agree = self.says("consent_agree")
        gate = await self.user.wait_for(lambda m: agree in m.buttons, timeout=WAIT)
        await self.user.press(agree, message=gate)
        return await self.user.wait_for(self.says("subject_question"), timeout=WAIT)

    async def send_photo(self) -> ChatMessage:
        await self.user.send_photo(photo(1))
        return await self.user.wait_for(self.says("photos_received", count=1, more=4), timeout=WAIT)

    async def answer_everything(self, birth_year: str = "1984") -> ChatMessage:
        await self.user.wait_for(self.says("q_birth_year_own"), timeout=WAIT)
        await self.user.send(birth_year)
        for key in ANSWERS:
            await self.press(key)
        return await self.user.wait_for(self.says("summary_title"), timeout=WAIT)

    async def check_to_result(self) -> tuple[ChatMessage, ChatMessage]:
        """From /start to the text result and the card; returns (result, card)."""
        await self.press("subject_own", await self.agree())
        await self.user.wait_for(first_line(self.language, "photos_request"), timeout=WAIT)
        await self.press("button_done", await self.send_photo())
        await self.press("button_send", await self.answer_everything())
        await self.user.wait_for(self.says("analysing", count=1), timeout=WAIT)
        result = await self.user.wait_for(self.says("result_intro"), timeout=WAIT)
        card = await self.user.wait_for(lambda m: m.photo is not None, timeout=WAIT)
        return result, card
