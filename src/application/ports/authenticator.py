from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from domain.identity.entities import User

__all__ = ("Authenticator", "Credentials", "Principal")


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What a request presented: its ``Authorization`` header and its cookies."""

    authorization: str | None = None
    cookies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The authenticated caller of one request."""

    user: User


class Authenticator(Protocol):
    @abstractmethod
    async def authenticate(self, credentials: Credentials) -> Principal | None:
        """The caller these credentials prove, or ``None`` when they prove nobody."""
