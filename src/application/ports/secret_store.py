from abc import abstractmethod
from typing import Protocol

from domain.identity.entities import UserId
from domain.secrets.entities import CustomSecret, SecretName

__all__ = ("SecretStore",)


class SecretStore(Protocol):
    """A user's custom secrets, found by name within their owner; value and description are
    sealed at rest by the adapter, bound to their row.

    Transactional: the unit of work commits.
    """

    @abstractmethod
    async def add(self, secret: CustomSecret) -> None:
        """Stage a new secret. Raises ``SecretNameTakenError`` when the user has that name."""

    @abstractmethod
    async def get(self, user_id: UserId, name: SecretName) -> CustomSecret | None:
        """The user's secret of that name (names are case-sensitive), else ``None``."""

    @abstractmethod
    async def list_for(self, user_id: UserId) -> list[CustomSecret]:
        """Every secret of the user, by name."""

    @abstractmethod
    async def save(self, secret: CustomSecret) -> None:
        """Store a changed value, description and update time of a secret already added."""

    @abstractmethod
    async def delete(self, user_id: UserId, name: SecretName) -> bool:
        """Forget the user's secret of that name; whether there was one."""
