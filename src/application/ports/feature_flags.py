from abc import abstractmethod
from typing import Protocol

from domain.identity.entities import UserId

__all__ = ("FeatureFlags",)


class FeatureFlags(Protocol):
    """Feature flags evaluated in process from definitions polled in the background: asking
    never waits on the network, and is safe on every request's path."""

    @abstractmethod
    def variant(self, flag: str, user_id: UserId) -> str | None:
        """The variant of the multivariate ``flag`` for ``user_id`` (the same for a user as
        long as the flag does not change); ``None`` when the flag gives no variant: unknown,
        off, not multivariate, or no definitions loaded yet (the service unreachable)."""
