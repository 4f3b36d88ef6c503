"""Background work kept referenced until it ends, each case's analysis findable by the case.

Analyses, photo checks and acknowledgements run as tasks: the registry keeps them alive (the loop
holds only weak references), logs a failure, lets /withdraw and /delete stop a case's analysis,
and gives shutdown something to wait for or cancel. Services that spawn get the registry, not the
whole container.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)

# An analysis being stopped ends at its next await; this only bounds a database call in flight.
STOP_WAIT_S = 10.0


class TaskRegistry:
    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()
        self._of_case: dict[uuid.UUID, asyncio.Task[Any]] = {}

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coroutine` in the background, kept referenced until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.running.add(task)
        task.add_done_callback(self._finished)
        return task

    def spawn_for_case(
        self, public_id: uuid.UUID, coroutine: Coroutine[Any, Any, Any]
    ) -> asyncio.Task[Any]:
        """Run a case's analysis in the background, known by the case until it ends."""
        task = self.spawn(coroutine, name=f"analyse-{public_id}")
        self._of_case[public_id] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self._of_case.get(public_id) is done:
                del self._of_case[public_id]

        task.add_done_callback(forget)
        return task

    def cases(self) -> set[uuid.UUID]:
        """The cases whose analysis is running now."""
        return set(self._of_case)

    async def cancel_cases(self, public_ids: Iterable[uuid.UUID]) -> None:
        """Cancel the analyses of these cases and wait until they have ended (a case that
        waits for the API leaves the queue; its "Analysing…" is no longer edited)."""
        stopping = [task for key in public_ids if (task := self._of_case.get(key)) is not None]
        for task in stopping:
            task.cancel()
        if stopping:
            await asyncio.wait(stopping, timeout=STOP_WAIT_S)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def settle(self, grace_s: float) -> None:
        """Give work in flight up to `grace_s` to finish (called while Telegram still works)."""
        if self.running and grace_s > 0:
            await asyncio.wait(list(self.running), timeout=grace_s)

    async def cancel_all(self) -> None:
        for task in list(self.running):
            task.cancel()
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
