"""Who did what around a fault, read from what the fakes recorded (for bench_takeover.py).

Each bot process talks to the fakes through its own URL (`FakeTelegram.base_url_for(via)`,
`FakeModelDerm.url_for(via)`), so every Bot API call, download, hand-out of updates and API
request names its process. Each person sends photos of their own, so the files of an API
request name the case it was for: a case whose request came twice was sent to the API twice.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from tests.fakes.modelderm_server import RecordedRequest
from tests.fakes.telegram_server import Handout, ProcessCall
from tests.images import jpeg_bytes, make_skin_photo

# Methods that take or confirm updates, and set the bot up: not a reaction to an update.
_NOT_AN_ANSWER = frozenset({"getupdates", "getme", "setmycommands", "deletewebhook", "file"})


@dataclass(frozen=True)
class Fault:
    """A fault that hit process `via` at `at` (time.monotonic()) and `wall` (time.time())."""

    via: str
    at: float
    wall: float


def person_photos(bases: Sequence[Image.Image], number: int) -> tuple[bytes, ...]:
    """Photos only person `number` sends: the base photos with a mark of their own (a small
    square whose colour and place encode the number), so that the bot's prepared uploads of
    two people never coincide."""
    photos = []
    for index, base in enumerate(bases):
        image = base.copy()
        code = number * len(bases) + index
        colour = (40 + code % 200, 40 + (code // 200) % 200, 90)
        # Near the top middle: the bot crops a photo to its central square.
        left = image.width // 2 - 100 + (code % 17) * 12
        ImageDraw.Draw(image).rectangle((left, 20, left + 60, 80), fill=colour)
        photos.append(jpeg_bytes(image))
    return tuple(photos)


def base_photos(count: int = 2) -> list[Image.Image]:
    return [make_skin_photo(1280, 960, seed=seed) for seed in range(1, count + 1)]


def case_key(request: RecordedRequest) -> tuple[str, ...]:
    """What identifies the case a request was for: the digests of its files."""
    return tuple(hashlib.sha256(f.data).hexdigest()[:16] for f in request.files)


def in_flight(requests: Iterable[RecordedRequest], fault: Fault) -> list[RecordedRequest]:
    """The API requests of the faulted process received before the fault and not answered
    by then."""
    return [
        r
        for r in requests
        if r.via == fault.via
        and r.received_at <= fault.wall
        and (r.answered_at is None or r.answered_at > fault.wall)
    ]


def repeated_calls(requests: Sequence[RecordedRequest], faults: Sequence[Fault]) -> dict[str, Any]:
    """Cases whose API request came more than once, and whether a request in flight at a fault
    explains each (a process that died or froze with its request unanswered: the case is sent
    again by the one that takes it over). An unexplained repeat says how long before the
    nearest fault its first request had been answered."""
    counts = Counter(case_key(r) for r in requests)
    flying = {case_key(r) for fault in faults for r in in_flight(requests, fault)}
    repeated = [key for key, n in counts.items() if n > 1]
    unexplained = []
    for key in repeated:
        if key in flying:
            continue
        first = min((r for r in requests if case_key(r) == key), key=lambda r: r.received_at)
        answered = first.answered_at or first.received_at
        gaps = [round(f.wall - answered, 2) for f in faults]
        unexplained.append({"case": key[0], "answered_s_before_fault": min(gaps, key=abs)})
    return {
        "api_calls": len(requests),
        "cases_called": len(counts),
        "cases_called_more_than_once": len(repeated),
        "extra_calls": sum(n - 1 for n in counts.values()),
        "calls_in_flight_at_faults": sum(len(in_flight(requests, f)) for f in faults),
        "repeats_explained_by_in_flight": not unexplained,
        "unexplained_repeats": unexplained,
    }


def _answers(call: ProcessCall, handout: Handout) -> bool:
    if call.method.lower() in _NOT_AN_ANSWER or call.at < handout.at:
        return False
    if handout.callback_query_id is not None and call.callback_query_id is not None:
        return call.callback_query_id == handout.callback_query_id
    return handout.chat_id is not None and call.chat_id == handout.chat_id


def first_served(
    calls: Sequence[ProcessCall], handouts: Sequence[Handout], via: str, since: float
) -> float | None:
    """When process `via` first answered an update it was handed at or after `since` (a call
    to that update's chat, or the answer to its button press); None if it never did."""
    mine = [h for h in handouts if h.via == via and h.at >= since]
    for call in calls:
        if call.via == via and call.at >= since and any(_answers(call, h) for h in mine):
            return call.at
    return None


def left_behind(
    calls: Sequence[ProcessCall],
    handouts: Sequence[Handout],
    confirmed: dict[int, tuple[str, float]],
    fault: Fault,
) -> tuple[list[Handout], list[Handout], list[Handout]]:
    """The updates the faulted process was handed and never answered; of those, the ones
    Telegram handed again to another process (not yet confirmed), and the ones delivered
    unanswered: confirmed (Telegram counts them delivered), never handed to anyone else. What
    such an update said may still have been stored (a photo is stored at once and acknowledged
    a moment later); only its answer is certainly missing."""
    # A frozen process's long poll can still be answered: those hand-outs count as well.
    given: dict[int, Handout] = {}
    for handout in handouts:
        if handout.via == fault.via:
            given.setdefault(handout.update_id, handout)
    mine = [c for c in calls if c.via == fault.via]
    unanswered = [h for h in given.values() if not any(_answers(c, h) for c in mine)]
    elsewhere = {h.update_id for h in handouts if h.via != fault.via}
    redelivered = [h for h in unanswered if h.update_id in elsewhere]
    gone = [h for h in unanswered if h.update_id not in elsewhere and h.update_id in confirmed]
    return unanswered, redelivered, gone


def presses_answered_only(
    calls: Sequence[ProcessCall],
    handouts: Sequence[Handout],
    confirmed: dict[int, tuple[str, float]],
    fault: Fault,
) -> list[Handout]:
    """Button presses the faulted process answered (the spinner stopped) without writing to
    the chat after that, confirmed and never handed to anyone else: the press did nothing the
    person could see (a "Send" whose "Analysing…" never came)."""
    elsewhere = {h.update_id for h in handouts if h.via != fault.via}
    mine = [c for c in calls if c.via == fault.via]
    found: dict[int, Handout] = {}
    for press in handouts:
        if (
            press.update_id in found
            or press.via != fault.via
            or press.callback_query_id is None
            or press.update_id in elsewhere
            or press.update_id not in confirmed
        ):
            continue
        answers = [c.at for c in mine if c.callback_query_id == press.callback_query_id]
        if answers and not any(
            c.chat_id == press.chat_id
            and c.at >= min(answers)
            and c.method.lower() not in _NOT_AN_ANSWER
            for c in mine
        ):
            found[press.update_id] = press
    return list(found.values())


def updates_left_behind(
    calls: Sequence[ProcessCall],
    handouts: Sequence[Handout],
    confirmed: dict[int, tuple[str, float]],
    fault: Fault,
) -> dict[str, Any]:
    """`left_behind` in numbers; for the updates delivered unanswered, how many seconds before
    the fault they had been handed out (negative: to a frozen process's waiting long poll)."""
    unanswered, redelivered, gone = left_behind(calls, handouts, confirmed, fault)
    return {
        "presses_answered_only": len(presses_answered_only(calls, handouts, confirmed, fault)),
        "updates_unanswered": len(unanswered),
        "updates_redelivered": len(redelivered),
        "updates_delivered_unanswered": len(gone),
        "updates_delivered_unanswered_kinds": sorted(Counter(h.kind for h in gone).items()),
        "updates_delivered_unanswered_handed_out_s_before_fault": sorted(
            round(fault.at - h.at, 2) for h in gone
        ),
    }


def photos_fetched_again(calls: Sequence[ProcessCall], fault: Fault, successor: str) -> int:
    """Files the faulted process had downloaded that its successor downloaded again after
    the fault (photos held only in the faulted process's memory)."""
    before = {c.file_path for c in calls if c.via == fault.via and c.method == "file"}
    after = {
        c.file_path for c in calls if c.via == successor and c.method == "file" and c.at >= fault.at
    }
    return len(before & after)


def calls_after(calls: Sequence[ProcessCall], via: str, since: float) -> list[str]:
    """The methods process `via` called from `since` on (a frozen leader continued: none)."""
    return [c.method for c in calls if c.via == via and c.at >= since]


def answer_delays(calls: Sequence[ProcessCall], handouts: Sequence[Handout]) -> list[float]:
    """For every update answered by the process it was handed to: seconds from the hand-out
    to its first answer. Telegram counts an update delivered as soon as the next poll asks for
    later ones (PTB asks at once), so this is how long a fetched update could be lost."""
    answers: dict[tuple[str, str, object], list[float]] = {}
    for call in calls:
        if call.method.lower() in _NOT_AN_ANSWER:
            continue
        if call.callback_query_id is not None:
            answers.setdefault((call.via, "query", call.callback_query_id), []).append(call.at)
        if call.chat_id is not None:
            answers.setdefault((call.via, "chat", call.chat_id), []).append(call.at)
    delays = []
    for handout in handouts:
        if handout.callback_query_id is not None:
            key: tuple[str, str, object] = (handout.via, "query", handout.callback_query_id)
        else:
            key = (handout.via, "chat", handout.chat_id)
        times = answers.get(key, [])
        after = bisect.bisect_left(times, handout.at)
        if after < len(times):
            delays.append(times[after] - handout.at)
    return delays
