from abc import abstractmethod
from typing import Protocol

__all__ = ("DependencyProbe",)


class DependencyProbe(Protocol):
    """One bound dependency (database, Redis...) that readiness checks."""

    name: str

    @abstractmethod
    async def check(self) -> None:
        """Return when the dependency answers; raise ``DependencyUnavailableError`` otherwise,
        ``DependencyPreparingError`` while it is being set up and ``DependencyFailedError``
        when setting it up failed."""
