from abc import abstractmethod
from typing import Protocol

from domain.identity.principals import Credentials, Principal

__all__ = ("Authenticator",)


class Authenticator(Protocol):
    """Who a request's credentials prove. It never touches the request's unit of work: what it
    must read or write (a key's last use, refreshed session tokens) goes through a unit of work
    of its own, committed there, so only the use case commits the request's transaction."""

    @abstractmethod
    async def authenticate(self, credentials: Credentials) -> Principal | None:
        """The caller these credentials prove, or ``None`` when they prove nobody.

        Credentials that are presented but invalid prove nobody: there is no fallback.
        """
