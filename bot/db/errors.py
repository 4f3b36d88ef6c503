"""Typed refusals of the storage layer, each one something the conversation can explain."""

from __future__ import annotations

import uuid


class StorageError(Exception):
    """Base of every refusal below."""


class ConsentRequired(StorageError):
    """No accepted consent to the current terms: nothing may be sent to the API."""

    def __init__(self, telegram_user_id: int, reason: str) -> None:
        super().__init__(f"consent required: {reason}")
        self.telegram_user_id = telegram_user_id
        self.reason = reason


class SendingRefused(StorageError):
    """Photos that may never leave the bot, whatever the consent (bot/domain/safeguards.py)."""

    def __init__(self, public_id: uuid.UUID, reason: str) -> None:
        super().__init__(f"case {public_id} may not be sent: {reason}")
        self.public_id = public_id
        self.reason = reason


class CaseNotFound(StorageError):
    def __init__(self, public_id: uuid.UUID) -> None:
        super().__init__(f"no case {public_id}")
        self.public_id = public_id


class CaseAlreadyOpen(StorageError):
    """The person already has a case being collected; continue or cancel that one first."""

    def __init__(self, public_id: uuid.UUID) -> None:
        super().__init__(f"case {public_id} is still being collected")
        self.public_id = public_id


class CaseFull(StorageError):
    """A sixth photo: the API analyses at most five."""

    def __init__(self, public_id: uuid.UUID, limit: int) -> None:
        super().__init__(f"case {public_id} already has {limit} photos")
        self.public_id = public_id
        self.limit = limit


class CaseStateError(StorageError):
    """An operation that the case's current status does not allow."""

    def __init__(self, public_id: uuid.UUID, status: str, action: str) -> None:
        super().__init__(f"cannot {action} case {public_id}: it is {status}")
        self.public_id = public_id
        self.status = status
        self.action = action
