from abc import abstractmethod
from typing import Protocol

from domain.identity.principals import Credentials, Principal

__all__ = ("Authenticator",)


class Authenticator(Protocol):
    @abstractmethod
    async def authenticate(self, credentials: Credentials) -> Principal | None:
        """The caller these credentials prove, or ``None`` when they prove nobody.

        Credentials that are presented but invalid prove nobody: there is no fallback.
        """
