"""Per-person limits, the API queue with people's places in it, and Telegram's flood limits."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.conversation.common import SERVICES_KEY
from bot.db.base import utcnow
from bot.db.fair_use import limit_reached, record_submission
from bot.services.api_queue import ApiQueue, QueueNotice
from bot.services.container import Services
from bot.views.fair_use import when_text
from tests.conversation.flows import WAIT, complete_case, reach_summary
from tests.fakes.plugin import World, until


async def add_submitted(services: Services, telegram_user_id: int, *ago: dt.timedelta) -> None:
    """Checks this person sent `ago` before now, as the bot marks them when they are sent."""
    for delta in ago:
        await services.database.run(record_submission, telegram_user_id, now=utcnow() - delta)


async def test_after_the_hourly_limit_a_new_case_is_refused_kindly(world: World) -> None:
    alice = world.person("Alice")
    async with world.bot(cases_per_hour=1):
        await complete_case(alice)
        await alice.press("➕ New check")
        refusal = await alice.wait_for("the most I can take", timeout=WAIT)
    assert "1 checks in the last hour" in refusal.text or "sent 1 check" in refusal.text
    assert "You can send the next one in about 60 minutes" in refusal.text
    assert refusal.buttons == []
    assert len(world.api.requests) == 1


async def test_the_limit_is_checked_again_at_submission_and_the_case_kept(world: World) -> None:
    alice = world.person("Alice")
    async with world.bot(cases_per_hour=5, cases_per_day=2) as app:
        summary = await reach_summary(alice)
        # Meanwhile (another device, an earlier check) two cases were sent: 3 and 20 hours ago.
        services: Services = app.bot_data[SERVICES_KEY]
        await add_submitted(services, alice.id, dt.timedelta(hours=3), dt.timedelta(hours=20))
        await alice.press("📤 Send for analysis", message=summary)
        refusal = await alice.wait_for("the most I can take", timeout=WAIT)
        assert "2 checks in the last 24 hours" in refusal.text
        # The older one leaves the 24-hour window in 4 hours.
        assert "in about 4 hours (at " in refusal.text
        assert "This check is kept" in refusal.text
        assert "Please check before sending" in refusal.text
        assert "📤 Send for analysis" in refusal.buttons
    assert world.api.requests == []
    async with world.bot(cases_per_day=3):
        await alice.press("📤 Send for analysis", message=refusal)
        await alice.wait_for("AI estimate", timeout=WAIT)


async def test_the_count_survives_delete_and_a_new_consent(world: World) -> None:
    alice = world.person("Alice")
    async with world.bot(cases_per_hour=1):
        await complete_case(alice)
        await alice.send("/delete")
        asked = await alice.wait_for(lambda m: "Yes, erase everything" in m.buttons, timeout=WAIT)
        assert "anonymous count of the checks you sent in the last 24 hours" in asked.text
        await alice.press("Yes, erase everything")
        erased = await alice.wait_for("your data is erased", timeout=WAIT)
        assert "for 24 hours an anonymous count" in erased.text
        summary = await reach_summary(alice)
        await alice.press("📤 Send for analysis", message=summary)
        refusal = await alice.wait_for("the most I can take", timeout=WAIT)
    assert "in the last hour" in refusal.text and "This check is kept" in refusal.text
    assert len(world.api.requests) == 1


async def test_limits_count_from_the_database_window(world: World) -> None:
    settings = world.settings.model_copy(update={"cases_per_hour": 2, "cases_per_day": 3})
    async with world.bot() as app:
        services: Services = app.bot_data[SERVICES_KEY]
        alice = world.person("Alice")
        await alice.send("/start")
        await alice.wait_for(lambda m: "✅ I agree" in m.buttons, timeout=WAIT)
        # One 50 minutes ago, one 30 minutes ago: the hourly limit frees up in 10 minutes.
        await add_submitted(services, alice.id, dt.timedelta(minutes=50), dt.timedelta(minutes=30))
        reached = await services.database.run(limit_reached, alice.id, settings)
        assert reached is not None and reached.period == "hour"
        assert when_text(reached.retry_at) == "in about 10 minutes"
        assert await services.database.run(limit_reached, alice.id + 1, settings) is None
        await add_submitted(services, alice.id, dt.timedelta(hours=23, minutes=59))
        both = await services.database.run(limit_reached, alice.id, settings)
        generous_hour = settings.model_copy(update={"cases_per_hour": 5})
        daily = await services.database.run(limit_reached, alice.id, generous_hour)
        # Both limits reached: the person must wait for the later one (the hour, 10 minutes).
        assert both is not None and both.period == "hour"
        assert when_text(both.retry_at) == "in about 10 minutes"
        # Only the day's: its oldest case leaves the 24-hour window in a minute.
        assert daily is not None and daily.period == "day"
        assert when_text(daily.retry_at) == "in about a minute"


async def test_queue_serves_in_order_and_tells_everyone_their_place() -> None:
    queue = ApiQueue(1)
    places: dict[str, list[int]] = {"b": [], "c": [], "d": []}
    order: list[str] = []
    gate = asyncio.Event()

    async def person(name: str) -> None:
        callback = places[name].append if name in places else None
        async with queue.turn(callback):
            order.append(name)
            await gate.wait()

    tasks = [asyncio.create_task(person(name)) for name in "abcd"]
    await until(lambda: queue.waiting == 3, "three people waiting")
    assert (queue.running, queue.waiting) == (1, 3)
    assert places == {"b": [0], "c": [1], "d": [2]}
    tasks[2].cancel()  # c gives up: d moves up
    await until(lambda: queue.waiting == 2, "c to leave the queue")
    assert places["d"] == [2, 1]
    gate.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["a", "b", "d"]
    assert (queue.running, queue.waiting) == (0, 0)


async def test_a_long_queue_moving_fast_costs_few_edits() -> None:
    # Every move changes everyone's place. Edited at a fixed pace, 60 people waiting cost
    # hundreds of edits (the queue's length squared) and used up Telegram's flood limit.
    queue = ApiQueue(1)
    edits: dict[int, list[str]] = {}

    class RecordingBot:
        async def edit_message_text(self, body: str, *, chat_id: int, message_id: int) -> None:
            edits.setdefault(chat_id, []).append(body)

    bot = RecordingBot()
    notices = [
        QueueNotice(bot, n, 1, "Analysing", every_s=0.01, queue=queue)  # type: ignore[arg-type]
        for n in range(60)
    ]

    async def person(n: int) -> None:
        async with queue.turn(notices[n]):
            await notices[n].close()
            await asyncio.sleep(0.005)

    await asyncio.gather(*(person(n) for n in range(60)))
    assert sum(map(len, edits.values())) <= 2 * 60
    # Everyone who was shown a place saw it first, and it is gone once their turn came.
    assert all(bodies[0].startswith("Analysing\n\n") for bodies in edits.values())
    assert all(bodies[-1] == "Analysing" for bodies in edits.values())
    assert len(edits) == 59


async def test_people_waiting_for_the_api_see_their_place(world: World) -> None:
    world.api.hold()  # Ann's check holds the only slot until all three are in line
    people = [world.person(name) for name in ("Ann", "Ben", "Cat")]
    async with world.bot(api_concurrency=1):
        summaries = await asyncio.gather(*(reach_summary(p) for p in people))
        # One after the other, each in the queue before the next presses "Send".
        in_line = [
            lambda: world.api.received(1),
            lambda: people[1].wait_for("you are next", timeout=WAIT),
            lambda: people[2].wait_for("1 person is ahead of you", timeout=WAIT),
        ]
        for person, summary, queued in zip(people, summaries, in_line, strict=True):
            await person.press("📤 Send for analysis", message=summary)
            await person.wait_for("Analysing", timeout=WAIT)
            await queued()
        world.api.release()
        results = await asyncio.gather(
            *(p.wait_for("AI estimate", timeout=WAIT + 10) for p in people)
        )
    assert all("AI estimate" in r.text for r in results)

    # Each person's "Analysing…" as it was shown before it became the result.
    def since_analysing(versions: list[dict[str, object]]) -> list[str]:
        """The versions of the screen from "Analysing…" on (before, it was the summary)."""
        texts = [str(v.get("text", "")) for v in versions]
        first = next((i for i, t in enumerate(texts) if "Analysing" in t), len(texts))
        return texts[first:]

    shown = {
        p.user["first_name"]: [version for m in p.messages for version in since_analysing(m.edits)]
        for p in people
    }
    # The result replaced each "Analysing…".
    assert all(any("Analysing" in str(v.get("text", "")) for v in r.edits) for r in results)
    assert not any("ahead of you" in t or "you are next" in t for t in shown["Ann"])
    assert any("you are next" in t for t in shown["Ben"])
    assert any("1 person is ahead of you" in t for t in shown["Cat"])
    # Cat moved up to "next" right after her place was shown, but edits are at most every 3 s
    # and Cat's turn came first: one edit for the place, one to take it away, nothing more.
    assert len(shown["Cat"]) == 3
    # When the turn comes the queue line goes away again.
    last = shown["Cat"][-1]
    assert "Analysing" in last and "ahead of you" not in last and "you are next" not in last


# PTB's rate limiter itself reads RetryAfter.retry_after, deprecated in its float form.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_telegram_flood_control_is_waited_out_not_failed(world: World) -> None:
    alice = world.person("Alice")
    async with world.bot():
        world.telegram.fail_next("sendMessage", 1, status=429, retry_after=1)
        await alice.send("/help")
        reply = await alice.wait_for("How it works", timeout=WAIT)
    assert "How it works" in reply.text
    assert [c.status for c in world.telegram.calls_to("sendMessage")][:2] == [429, 200]
