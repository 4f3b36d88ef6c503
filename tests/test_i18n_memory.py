"""The bot's memory of people's languages: bounded, expiring, forgetting on request."""

from __future__ import annotations

import pytest

from bot.i18n import memory
from bot.i18n.memory import RecentLanguages


def test_a_remembered_language_is_given_back_until_forgotten() -> None:
    known = RecentLanguages()
    assert known.get(1) is None
    known.remember(1, "ko")
    assert known.get(1) == "ko"
    known.remember(1, "es")
    assert known.get(1) == "es"
    known.forget(1)
    assert known.get(1) is None


def test_only_the_most_recently_seen_people_are_kept() -> None:
    known = RecentLanguages(max_people=2)
    known.remember(1, "ko")
    known.remember(2, "es")
    assert known.get(1) == "ko"  # 1 was seen after 2: 2 is now the oldest
    known.remember(3, "en")
    assert (known.get(1), known.get(2), known.get(3)) == ("ko", None, "en")
    assert len(known) == 2


def test_a_language_changed_from_outside_is_read_again_after_the_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(memory.time, "monotonic", lambda: now[0])
    known = RecentLanguages(ttl_s=600)
    known.remember(1, "ko")
    now[0] += 599
    assert known.get(1) == "ko"
    now[0] += 2
    assert known.get(1) is None
    assert len(known) == 0
