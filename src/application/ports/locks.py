from abc import abstractmethod
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Protocol

__all__ = ("Locks",)


class Locks(Protocol):
    """Mutual exclusion by key, across every process of the deployment.

    ``hold`` waits up to ``wait`` for the lock and raises ``DependencyUnavailableError`` if it
    cannot get it; the lock frees itself after ``ttl`` should its holder die.
    """

    @abstractmethod
    def hold(
        self, key: str, *, ttl: timedelta, wait: timedelta
    ) -> AbstractAsyncContextManager[None]: ...
