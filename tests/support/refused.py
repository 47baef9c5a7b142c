"""A dependency that cannot be reached, where a port opens something: a transaction, a
subscription."""

from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from application.errors import DependencyUnavailableError

__all__ = ("Refused",)

_T = TypeVar("_T")


class Refused(AbstractAsyncContextManager[_T]):
    """Opens nothing: entering it raises ``DependencyUnavailableError`` saying ``why``."""

    def __init__(self, why: str) -> None:
        self._why = why

    async def __aenter__(self) -> _T:
        raise DependencyUnavailableError(self._why)

    async def __aexit__(self, *_exc: object) -> None:
        return None
