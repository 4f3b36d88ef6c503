"""The chat of the reference check, as a person sees it at the end, and what it cost.

    python -m tests.transcript [--language en|ko|es] [--for own|someone-else]
                               [--answer reference|high-risk|infection|benign] [--save-card FILE]

Runs the real bot (`build_application`) in this process against the fake Telegram and the fake
Model Dermatology API: /start, agree, own skin (or someone else's, with a typed reference), two
clean photos one acknowledgement apart, Done, the year of birth typed, every other question
answered with a button, Send, a prompt answer. Then prints the chat message by message with
its buttons (deleted messages are not shown; a quote folded by Telegram shows its first line),
the Bot API calls to the person's chat by method, and the bar's numbers: calls that count
against Telegram's flood limit, bot messages left, and older messages still showing buttons.
tests/test_transcript.py runs the same scenario and holds the bar. `--answer` makes the fake API
answer as in docs/result.md's examples; `--save-card` writes the result card the person got.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.db.migrate import upgrade_to_head
from bot.i18n.texts import text_in
from tests.conversation.flows import WAIT, photo
from tests.fakes.modelderm_server import DEFAULT_CONDITIONS, FakeModelDerm
from tests.fakes.plugin import World, settings_for, sqlite_url
from tests.fakes.telegram_server import FLOOD_LIMITED, FakeTelegram, StoredMessage
from tests.fakes.telegram_user import ChatMessage, FakeUser

# The answers pressed, by message id of their labels (the year of birth is typed).
ANSWERS = (
    "sex_f",
    "skin_3",
    "site_arm",
    "severity_o",
    "severity_x",
    "onset_w",
    "q_change_no_change",
)
BIRTH_YEAR = "1984"
REFERENCE = "PT-7"
# The fake API's answers shown in docs/result.md: (conditions, malignancy output).
ANSWER_KINDS: dict[str, tuple[tuple[tuple[str, float], ...], int | None]] = {
    "reference": (DEFAULT_CONDITIONS, 4),
    "high-risk": (
        (
            ("Melanoma", 0.41),
            ("Basal cell carcinoma", 0.09),
            ("Melanocytic nevus", 0.08),
            ("Seborrheic keratosis", 0.06),
            ("Dysplastic nevus", 0.05),
        ),
        71,
    ),
    "infection": (
        (
            ("Cellulitis", 0.46),
            ("Erysipelas", 0.14),
            ("Contact dermatitis", 0.09),
            ("Insect bite", 0.07),
            ("Stasis dermatitis", 0.04),
        ),
        3,
    ),
    "benign": (
        (
            ("Melanocytic nevus", 0.62),
            ("Seborrheic keratosis", 0.12),
            ("Dermatofibroma", 0.06),
            ("Lentigo", 0.04),
            ("Skin tag", 0.03),
        ),
        2,
    ),
}
# The result's title: the message that may keep its "New check" button.
RESULT_TITLE = "result_title"


@dataclass(frozen=True)
class Bar:
    """The numbers the issue's bar is about."""

    flood_calls: int
    messages_left: int
    stale_buttons: int
    calls_by_method: dict[str, int]


async def reference_check(world: World, person: FakeUser, language: str, *, own: bool) -> None:
    """The reference check, pressing the labels of `language`; ends with the result's card."""

    def label(key: str) -> str:
        return text_in(language, key)

    await person.send("/start")
    await person.wait_for(lambda m: label("consent_agree") in m.buttons, timeout=WAIT)
    await person.press(label("consent_agree"))
    await person.wait_for(lambda m: label("subject_own") in m.buttons, timeout=WAIT)
    if own:
        await person.press(label("subject_own"))
    else:
        await person.press(label("subject_other"))
        await person.wait_for(lambda m: label("button_skip") in m.buttons, timeout=WAIT)
        await person.send(REFERENCE)
    await world.settled()
    for seed in (1, 2):
        # One acknowledgement each, as when photos come seconds apart.
        await person.send_photo(photo(seed))
        await person.wait_for(lambda m: label("button_done") in m.buttons, timeout=WAIT)
    await world.settled()
    await person.press(label("button_done"))
    await person.wait_for(lambda m: label("button_skip") in m.buttons, timeout=WAIT)
    await person.send(BIRTH_YEAR)
    for key in ANSWERS:
        await person.wait_for(lambda m, key=key: label(key) in m.buttons, timeout=WAIT)
        await person.press(label(key))
    await person.wait_for(lambda m: label("button_send") in m.buttons, timeout=WAIT)
    await person.press(label("button_send"))
    await person.wait_for(lambda m: bool(m.photo), timeout=WAIT)
    await world.settled()


def bar(telegram: FakeTelegram, person: FakeUser, language: str) -> Bar:
    calls = [c for c in telegram.calls if str(c.params.get("chat_id")) == str(person.chat_id)]
    by_method = collections.Counter(c.method for c in calls)
    flood = sum(n for method, n in by_method.items() if method.lower() in FLOOD_LIMITED)
    messages = person.messages
    heading = text_in(language, RESULT_TITLE, case="", date="")
    title = re.sub("<[^>]+>", "", heading).split("(")[0].strip()
    results = [m for m in messages if title in m.text and not m.photo]
    latest_result = results[-1] if results else None
    kept = latest_result.message_id if latest_result is not None else None
    stale = [m for m in messages if m.buttons and m.message_id != kept]
    return Bar(flood, len(messages), len(stale), dict(sorted(by_method.items())))


def _folded(message: StoredMessage) -> str:
    """The text as the chat shows it: a folded quote shows its first line and a fold mark."""
    body = message.text
    entities = message.data.get("entities") or message.data.get("caption_entities") or []
    units = body.encode("utf-16-le")
    for entity in sorted(entities, key=lambda e: -int(e["offset"])):
        if entity["type"] != "expandable_blockquote":
            continue
        start, end = 2 * int(entity["offset"]), 2 * (int(entity["offset"]) + int(entity["length"]))
        quoted = units[start:end].decode("utf-16-le")
        first = quoted.split("\n", 1)[0]
        more = quoted.count("\n")
        shown = f"┃ {first} … [+{more} lines, folded]".encode("utf-16-le")
        units = units[:start] + shown + units[end:]
    return units.decode("utf-16-le")


def chat_lines(person: FakeUser) -> list[str]:
    """Every message of the chat not deleted, oldest first: the person's marked as theirs."""
    lines: list[str] = []
    for stored in person.chat.messages.values():
        if stored.deleted:
            continue
        message = ChatMessage(stored)
        if not stored.from_bot:
            if message.photo:
                lines.append("  you › [photo]")
            else:
                lines.append(f"  you › {message.text}")
            continue
        head = "[photo] " if message.photo else ""
        body = (head + _folded(stored)).splitlines() or [""]
        lines.append(f"bot #{message.message_id}{' (edited)' if message.edited else ''}:")
        lines.extend(f"    {line}" for line in body)
        for row in message.button_rows:
            lines.append("    " + "  ".join(f"[ {label} ]" for label in row))
    return lines


def report(telegram: FakeTelegram, person: FakeUser, language: str) -> str:
    measured = bar(telegram, person, language)
    lines = ["The chat at the end:", "", *chat_lines(person), "", "Bot API calls to the chat:"]
    lines += [f"    {method}: {count}" for method, count in measured.calls_by_method.items()]
    lines += [
        "",
        f"Calls that count against the flood limit: {measured.flood_calls}",
        f"Bot messages left in the chat: {measured.messages_left}",
        f"Older messages still showing buttons: {measured.stale_buttons}",
    ]
    return "\n".join(lines)


def last_card(telegram: FakeTelegram, person: FakeUser) -> bytes | None:
    """The PNG of the last photo the bot sent the person (the result card), if any."""
    cards = [m.photo for m in person.messages if m.photo]
    stored = telegram.files.get(cards[-1][-1]["file_id"]) if cards else None
    return stored.data if stored is not None else None


async def run(
    language: str, own: bool, answer: str = "reference", save_card: Path | None = None
) -> str:
    with tempfile.TemporaryDirectory(prefix="transcript-") as tmp:
        database = Path(tmp) / "bot.sqlite3"
        await asyncio.to_thread(upgrade_to_head, sqlite_url(database))
        conditions, malignancy = ANSWER_KINDS[answer]
        async with FakeTelegram() as telegram, FakeModelDerm(conditions, malignancy) as api:
            settings = settings_for(telegram, [api.url], database)
            # The default quiet time of an album, as a real deployment has it.
            default_quiet = Settings.model_fields["album_quiet_s"].default
            world = World(
                telegram, api, settings.model_copy(update={"album_quiet_s": default_quiet})
            )
            person = world.person("Alice", language_code=language)
            async with world.bot():
                await reference_check(world, person, language, own=own)
            card = last_card(telegram, person)
            if save_card is not None and card is not None:
                await asyncio.to_thread(save_card.write_bytes, card)
            return report(telegram, person, language)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", choices=("en", "ko", "es"), default="en")
    parser.add_argument("--for", dest="whose", choices=("own", "someone-else"), default="own")
    parser.add_argument("--answer", choices=tuple(ANSWER_KINDS), default="reference")
    parser.add_argument("--save-card", type=Path, default=None, metavar="FILE")
    args = parser.parse_args()
    print(asyncio.run(run(args.language, args.whose == "own", args.answer, args.save_card)))


if __name__ == "__main__":
    main()
