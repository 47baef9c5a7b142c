from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from domain.identity.entities import User
from domain.identity.scopes import ALL_SCOPES, Scope
from domain.organizations.entities import OrgId

__all__ = ("AuthMethod", "Credentials", "Principal")


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What a request presented: its ``Authorization`` header and its cookies."""

    authorization: str | None = None
    cookies: Mapping[str, str] = field(default_factory=dict)
    fresh_tokens: bool = True
    """Whether the caller needs the session's provider tokens fresh (refreshed first when
    due); signing out does not, so it works while the provider is down."""
    reuse_recent: bool = True
    """Whether what these credentials proved a few seconds ago may stand; ``False`` reads them
    again (checking access again once a revocation was heard)."""

    @property
    def bearer(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, if that is what was sent."""
        scheme, _, token = (self.authorization or "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


class AuthMethod(StrEnum):
    LOCAL = "local"
    SESSION = "session"
    API_KEY = "api_key"
    WEBHOOK = "webhook"
    """Work a provider's webhook asked for, done for the user its sender is."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The authenticated caller of one request and what its credential allows."""

    user: User
    method: AuthMethod
    scopes: frozenset[Scope] = ALL_SCOPES
    credential_id: UUID | None = None
    """The session or API key that proved the caller, if any."""
    bound_org_id: OrgId | None = None
    """An API key acts inside the one organization it was made in."""
