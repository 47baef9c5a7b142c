from abc import abstractmethod
from typing import Protocol

from domain.identity.entities import User, UserId
from domain.identity.value_objects import EmailAddress

__all__ = ("UserRepository",)


class UserRepository(Protocol):
    """Users by id and by identity-provider subject. Transactional: the unit of work commits."""

    @abstractmethod
    async def get(self, user_id: UserId) -> User | None: ...

    @abstractmethod
    async def get_by_subject(self, subject: str) -> User | None: ...

    @abstractmethod
    async def find_by_email(self, email: EmailAddress) -> User | None:
        """The user with this address, ignoring case; a verified address wins over others."""

    @abstractmethod
    async def add(self, user: User) -> None:
        """Stage a new user. Raises ``ConflictError`` when the subject is already known."""

    @abstractmethod
    async def save(self, user: User) -> None:
        """Store the changed email, verification, name or avatar of an added user."""
