from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

__all__ = ("LoginAttemptStore", "PendingLogin", "StartCount")


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingLogin:
    """What the callback needs to finish a sign-in it started, keyed by the ``state``."""

    code_verifier: str
    nonce: str
    return_to: str
    idp_hint: str | None
    started_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCount:
    """The sign-ins one client started in its current window, and when that window ends."""

    count: int
    resets_in: timedelta


class LoginAttemptStore(Protocol):
    """Short-lived sign-in attempts, each usable once, and how many each client started."""

    @abstractmethod
    async def put(self, state: str, attempt: PendingLogin, ttl: timedelta) -> None: ...

    @abstractmethod
    async def take(self, state: str) -> PendingLogin | None:
        """The attempt, removed as it is read; ``None`` if unknown, used or expired."""

    @abstractmethod
    async def count_start(self, client: str, window: timedelta) -> StartCount:
        """Count one more sign-in started by ``client``: the count in its current window, this
        one included. A window opens with a client's first count and lasts ``window``."""
