from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol

from domain.identity.sessions import ProviderTokens

__all__ = (
    "AuthorizationRequest",
    "IdentityClaims",
    "IdentityProvider",
    "SignInResult",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    idp_hint: str | None = None
    """Keycloak's ``kc_idp_hint``: go straight to GitHub, GitLab, Bitbucket or an SSO."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityClaims:
    """Who the provider says signed in, from a validated ID token."""

    subject: str
    email: str
    email_verified: bool
    name: str | None
    picture: str | None
    identity_provider: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInResult:
    claims: IdentityClaims
    tokens: ProviderTokens


class IdentityProvider(Protocol):
    """An OpenID Connect provider (Keycloak in production).

    Raises ``SignInRejectedError`` when the provider refuses a code or refresh token, and
    ``DependencyUnavailableError`` when it cannot be reached.
    """

    @abstractmethod
    async def authorization_url(self, request: AuthorizationRequest) -> str:
        """Where to send the browser: code flow with PKCE (S256), state and nonce."""

    @abstractmethod
    async def complete(
        self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> SignInResult:
        """Exchange the code and validate the ID token (signature, issuer, audience, expiry,
        nonce)."""

    @abstractmethod
    async def refresh(self, refresh_token: str) -> ProviderTokens: ...

    @abstractmethod
    async def revoke(self, refresh_token: str) -> None:
        """Revoke at the provider; a provider that cannot revoke makes this a no-op."""

    @abstractmethod
    async def end_session_url(
        self, *, id_token_hint: str | None, post_logout_redirect_uri: str
    ) -> str | None:
        """RP-initiated logout at the provider, if it offers it."""
