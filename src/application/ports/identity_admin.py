from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.identity.value_objects import EmailAddress

__all__ = ("BrokeredToken", "IdentityAdmin")


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokeredToken:
    """An upstream provider's token (GitHub, GitLab, Bitbucket) that the broker kept at login."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: str | None

    def __repr__(self) -> str:
        return f"BrokeredToken(expires_at={self.expires_at!r}, scopes={self.scopes!r}, ...)"


class IdentityAdmin(Protocol):
    """The identity broker's account administration (Keycloak's admin and broker APIs).

    Raises ``DependencyUnavailableError`` when the broker cannot be reached or refuses.
    """

    @abstractmethod
    async def change_email(self, subject: str, email: EmailAddress) -> None:
        """Set a new, unverified email and send the verification link to it. Raises
        ``EmailTakenError`` when another account has the address."""

    @abstractmethod
    async def send_verification_email(self, subject: str) -> None: ...

    @abstractmethod
    async def brokered_token(
        self, *, access_token: str, identity_provider: str
    ) -> BrokeredToken | None:
        """The upstream token stored at login, or ``None`` if the broker kept none."""
