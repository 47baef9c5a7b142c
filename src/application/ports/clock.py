from abc import abstractmethod
from datetime import datetime
from typing import Protocol

__all__ = ("Clock",)


class Clock(Protocol):
    @abstractmethod
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
