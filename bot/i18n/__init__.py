"""Which language the bot speaks to a person, and formatting numbers and dates in it.

The language of the update being handled lives in a context variable, set once per update (see
`bot.conversation.language`) and inherited by the tasks an update starts. Code that runs outside
an update (retries, redeliveries) sets it from the person's stored language with
`speaking(language)`. So every text, keyboard, the consent gate, the result and the card of one
person come out in the same language without every function passing it along.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

DEFAULT_LANGUAGE = "en"
# Order of the /language buttons; each language's own name, so anyone can find theirs.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ko": "한국어", "es": "Español"}
SUPPORTED: tuple[str, ...] = tuple(LANGUAGE_NAMES)

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "bot_language", default=DEFAULT_LANGUAGE
)


def resolve_language(code: str | None) -> str:
    """A supported language for a Telegram `language_code` ("es-MX" -> "es"); else English."""
    base = (code or "").replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in LANGUAGE_NAMES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the person the current update or task is for."""
    return _current.get()


def set_language(language: str | None) -> None:
    """Speak `language` for the rest of this update (or task and the tasks it starts)."""
    _current.set(resolve_language(language))


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Speak `language` inside the block, e.g. when a background job writes to a person."""
    token = _current.set(resolve_language(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
