from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

__all__ = ("LoginAttemptStore", "PendingLogin")


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingLogin:
    """What the callback needs to finish a sign-in it started, keyed by the ``state``."""

    code_verifier: str
    nonce: str
    return_to: str
    idp_hint: str | None
    started_at: datetime


class LoginAttemptStore(Protocol):
    """Short-lived sign-in attempts, each usable once."""

    @abstractmethod
    async def put(self, state: str, attempt: PendingLogin, ttl: timedelta) -> None: ...

    @abstractmethod
    async def take(self, state: str) -> PendingLogin | None:
        """The attempt, removed as it is read; ``None`` if unknown, used or expired."""
