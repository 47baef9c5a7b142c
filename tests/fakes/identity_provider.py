import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from application.errors import SignInRejectedError
from application.ports.clock import Clock
from application.ports.identity_provider import (
    AuthorizationRequest,
    IdentityClaims,
    IdentityProvider,
    SignInResult,
)
from domain.identity.sessions import ProviderTokens


@dataclass
class _Grant:
    claims: IdentityClaims
    refresh_tokens: list[str] = field(default_factory=list)
    revoked: bool = False


class FakeIdentityProvider(IdentityProvider):
    """An issuer in memory: codes bound to their request, rotating refresh tokens whose reuse
    revokes the whole grant (as real issuers do), and a count of refreshes."""

    ISSUER = "https://issuer.test"

    def __init__(self, clock: Clock, *, access_ttl: timedelta = timedelta(minutes=5)) -> None:
        self._clock = clock
        self._access_ttl = access_ttl
        self._requests: dict[str, AuthorizationRequest] = {}
        self._codes: dict[str, tuple[AuthorizationRequest, IdentityClaims]] = {}
        self._grants: dict[str, _Grant] = {}
        self.refresh_calls = 0
        self.refresh_delay_s = 0.0
        self.revoked: list[str] = []

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        self._requests[request.state] = request
        return f"{self.ISSUER}/auth?{urlencode({'state': request.state})}"

    def approve(self, state: str, claims: IdentityClaims) -> str:
        """The person signs in at the issuer: the code it sends back to the app."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = (self._requests[state], claims)
        return code

    async def complete(
        self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> SignInResult:
        found = self._codes.pop(code, None)
        if found is None:
            raise SignInRejectedError("unknown or used code")
        request, claims = found
        if (request.code_verifier, request.redirect_uri, request.nonce) != (
            code_verifier,
            redirect_uri,
            nonce,
        ):
            raise SignInRejectedError("the code belongs to another request")
        grant = _Grant(claims=claims)
        return SignInResult(claims=claims, tokens=self._issue(grant))

    def _issue(self, grant: _Grant) -> ProviderTokens:
        refresh = secrets.token_urlsafe(16)
        grant.refresh_tokens.append(refresh)
        self._grants[refresh] = grant
        return ProviderTokens(
            access_token=secrets.token_urlsafe(16),
            access_expires_at=self._clock.now() + self._access_ttl,
            refresh_token=refresh,
            refresh_expires_at=None,
            id_token=f"id-{secrets.token_hex(8)}",
        )

    async def refresh(self, refresh_token: str) -> ProviderTokens:
        self.refresh_calls += 1
        if self.refresh_delay_s:
            await asyncio.sleep(self.refresh_delay_s)
        grant = self._grants.get(refresh_token)
        if grant is None or grant.revoked:
            raise SignInRejectedError("unknown or revoked refresh token")
        if grant.refresh_tokens[-1] != refresh_token:
            grant.revoked = True
            raise SignInRejectedError("a used refresh token came back: the grant is revoked")
        return self._issue(grant)

    async def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)
        grant = self._grants.get(refresh_token)
        if grant is not None:
            grant.revoked = True

    async def end_session_url(
        self, *, id_token_hint: str | None, post_logout_redirect_uri: str
    ) -> str | None:
        query = {"post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        return f"{self.ISSUER}/logout?{urlencode(query)}"
