from abc import abstractmethod
from typing import Protocol

__all__ = ("UnitOfWork",)


class UnitOfWork(Protocol):
    """The transaction shared by every repository of one request. Use cases commit; nothing else."""

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...
