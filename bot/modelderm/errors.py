"""What can go wrong when talking to the Model Dermatology API, as types the bot can act on.

Only `PhotoCountError` and `DiagnosisFailed` escape `ModelDermClient.diagnose()` (besides what
its caller's own `before_upload` raises); the others describe one attempt and end up, as text,
in `DiagnosisFailed.attempts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_PHOTOS = 5


class ModelDermError(Exception):
    """Base of every error of the Model Dermatology client."""


class PhotoCountError(ModelDermError, ValueError):
    """0 or more than five photos: refused before anything is sent."""

    def __init__(self, count: int) -> None:
        super().__init__(f"send 1 to {MAX_PHOTOS} photos as one case, not {count}")
        self.count = count


class AnswerError(ModelDermError):
    """The server answered, but not with a readable, successful diagnosis.

    `excerpt` is a short single line of the body (or the title of an HTML page), safe to log.
    """

    def __init__(self, reason: str, excerpt: str = "") -> None:
        super().__init__(f"{reason}: {excerpt!r}" if excerpt else reason)
        self.reason = reason
        self.excerpt = excerpt


class ServerError(ModelDermError):
    """An HTTP status other than 200 (5xx, 408, 429, or an unexpected one)."""

    def __init__(self, status: int, excerpt: str = "", retry_after_s: float | None = None) -> None:
        detail = f" ({excerpt})" if excerpt else ""
        super().__init__(f"HTTP {status}{detail}")
        self.status = status
        self.excerpt = excerpt
        self.retry_after_s = retry_after_s


class RequestRejected(ServerError):
    """A 4xx other than 408/429: the server refuses this request; repeating it will not help."""


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One failed try: which server, what happened (one line, no secrets), how long it took."""

    server: str
    outcome: str
    elapsed_s: float
    # The server answered, but with nothing readable (AnswerError): a protocol error.
    unreadable: bool = False

    def describe(self) -> str:
        return f"{host_of(self.server)}: {self.outcome}"


class DiagnosisFailed(ModelDermError):
    """Every attempt failed; the one error `diagnose()` raises after trying.

    `retryable` tells the bot whether to park the case and try later (the servers were down,
    slow or overloaded) or to give up (every server refused the request itself).
    """

    def __init__(
        self, attempts: list[AttemptRecord], retryable: bool, stopped_because: str = ""
    ) -> None:
        self.attempts = list(attempts)
        self.retryable = retryable
        self.stopped_because = stopped_because
        super().__init__(self._summary())

    @property
    def unreadable_answers_only(self) -> bool:
        """Every attempt got an answer, none of them readable: the API speaks, but not in a
        way the bot understands. Retrying soon will not help the way it helps an outage."""
        return bool(self.attempts) and all(a.unreadable for a in self.attempts)

    def _summary(self) -> str:
        count = len(self.attempts)
        noun = "attempt" if count == 1 else "attempts"
        head = f"{'all ' if count > 1 else ''}{count} {noun} failed"
        if self.stopped_because:
            head += f" ({self.stopped_because})"
        if not self.attempts:
            return head
        return head + ": " + "; ".join(a.describe() for a in self.attempts)


def host_of(url: str) -> str:
    """The host (and port) of a server URL: short, and never the query that carries the key."""
    parts = urlsplit(url)
    return parts.netloc or url.split("?", 1)[0]
