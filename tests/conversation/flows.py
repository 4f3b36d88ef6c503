"""Steps of the conversation as a person takes them, shared by the end-to-end tests."""

from __future__ import annotations

import functools

from bot.domain.steps import QUESTIONS
from tests.fakes.telegram_user import ChatMessage, FakeUser
from tests.images import blurred, jpeg_bytes, make_skin_photo

# How long a test waits for something the bot should do before it fails.
WAIT = 10.0


@functools.cache
def photo(seed: int = 1, *, blur: float = 0.0) -> bytes:
    """A Telegram-sized photo (1280 px) of skin-like texture, different for every seed."""
    image = make_skin_photo(1280, 960, seed=seed)
    return jpeg_bytes(blurred(image, blur) if blur else image)


async def agree(user: FakeUser) -> ChatMessage:
    """/start, then "I agree"; returns the "Whose skin?" question."""
    await user.send("/start")
    await user.wait_for(lambda m: "✅ I agree" in m.buttons, timeout=WAIT)
    await user.press("✅ I agree")
    return await user.wait_for("Whose skin", timeout=WAIT)


async def send_photos(user: FakeUser, count: int, *, album: bool = False) -> ChatMessage:
    """Send `count` photos (one by one or as one album); returns the acknowledgement."""
    if album:
        await user.send_album([photo(seed) for seed in range(1, count + 1)])
    else:
        for seed in range(1, count + 1):
            await user.send_photo(photo(seed))
    return await user.wait_for(acknowledges(count), timeout=WAIT)


def acknowledges(count: int) -> str:
    """The words of the acknowledgement once the case holds `count` photos."""
    if count >= 5:
        return "5 photos received, the most I can use"
    return f"{count} photo{'s' if count > 1 else ''} received. Send up to {5 - count} more"


# Words of every photo acknowledgement ("2 photos received. Send up to 3 more, ...").
RECEIVED = " received. Send up to"


async def withdraw(user: FakeUser) -> ChatMessage:
    """/withdraw, then "Yes, withdraw" (the answer comes as that question, edited); returns the
    question."""
    await user.send("/withdraw")
    question = await user.wait_for("Withdraw your consent?", timeout=WAIT)
    await user.press("Yes, withdraw", message=question)
    return question


ALL_ANSWERS = (
    ("Female",),
    ("III · sometimes burns, tans evenly",),
    ("Arm",),
    ("Mild or moderate",),
    ("No",),
    ("Less than a month",),
    ("No change",),
)


async def answer_everything(user: FakeUser, birth_year: str = "1984") -> ChatMessage:
    """Answer every question; returns the summary."""
    await user.wait_for("year of birth", timeout=WAIT)
    await user.send(birth_year)
    for (label,) in ALL_ANSWERS:
        await user.wait_for(lambda m, label=label: label in m.buttons, timeout=WAIT)
        await user.press(label)
    return await user.wait_for("Please check before sending", timeout=WAIT)


async def skip_everything(user: FakeUser) -> ChatMessage:
    """Skip every question; returns the summary."""
    for _ in QUESTIONS:
        message = await user.wait_for(lambda m: "Skip" in m.buttons, timeout=WAIT)
        await user.press("Skip", message=message)
    return await user.wait_for("Please check before sending", timeout=WAIT)


async def finish_and_send(user: FakeUser) -> ChatMessage:
    """From the photos step: Done, skip every question, send; returns the result."""
    await user.press("✅ Done")
    await skip_everything(user)
    await user.press("📤 Send for analysis")
    return await user.wait_for("AI estimate (check", timeout=WAIT)


async def submit_case(user: FakeUser, photos: int = 2) -> None:
    """A whole check of the person's own skin, sent; does not wait for the result."""
    await agree(user)
    await user.press("My own skin")
    await send_photos(user, photos)
    await user.press("✅ Done")
    await skip_everything(user)
    await user.press("📤 Send for analysis")


async def reach_summary(user: FakeUser, *, first: bool = True) -> ChatMessage:
    """From nothing (or from "New check") to the summary of a case with two photos."""
    if first:
        await agree(user)
    else:
        await user.wait_for("Whose skin", timeout=WAIT)
    await user.press("My own skin")
    await send_photos(user, 2)
    await user.press("✅ Done")
    return await answer_everything(user)


async def complete_case(user: FakeUser, *, first: bool = True) -> ChatMessage:
    """A whole case: consent (the first time), 2 photos, every answer, send, the result."""
    await reach_summary(user, first=first)
    await user.press("📤 Send for analysis")
    return await user.wait_for("AI estimate", timeout=WAIT)
