import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from application.errors import ApplicationError, SignInRejectedError
from application.ports.clock import Clock
from application.ports.identity_provider import (
    AuthorizationRequest,
    IdentityClaims,
    IdentityProvider,
    SignInResult,
)
from domain.identity.sessions import ProviderTokens


def s256(code_verifier: str) -> str:
    """The PKCE ``S256`` code challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class _Code:
    code_challenge: str
    redirect_uri: str
    nonce: str
    claims: IdentityClaims


@dataclass
class _Grant:
    claims: IdentityClaims
    refresh_tokens: list[str] = field(default_factory=list)
    revoked: bool = False


class FakeIdentityProvider(IdentityProvider):
    """An OpenID Connect issuer in memory.

    ``authorization_url`` answers a URL like a real issuer's (state, nonce, S256 challenge,
    redirect URI, ``kc_idp_hint``); ``login(url, subject, email, ...)`` plays the person
    signing in at it and returns the one-use code, bound to that request's verifier, nonce
    and redirect URI. Refresh tokens rotate on every use; a used one coming back revokes the
    whole grant, as oidc-provider and Keycloak do. ``refresh_calls`` counts refreshes and
    ``refresh_delay_s`` holds each one open so that concurrent callers overlap. ``revoked``
    lists the tokens ``revoke`` was called with; ``revoke_error`` makes it fail (revoking
    nothing), as an unreachable or refusing issuer would.
    """

    ISSUER = "https://issuer.test"
    CLIENT_ID = "maestrist"
    SCOPES = "openid email profile"

    def __init__(
        self,
        clock: Clock,
        *,
        access_ttl: timedelta = timedelta(minutes=5),
        refresh_ttl: timedelta | None = None,
    ) -> None:
        self._clock = clock
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._requests: dict[str, AuthorizationRequest] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}
        self.refresh_calls = 0
        self.refresh_delay_s = 0.0
        self.revoked: list[str] = []
        self.revoke_error: ApplicationError | None = None
        self.end_session_error: ApplicationError | None = None

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        self._requests[request.state] = request
        query = {
            "response_type": "code",
            "client_id": self.CLIENT_ID,
            "redirect_uri": request.redirect_uri,
            "scope": self.SCOPES,
            "state": request.state,
            "nonce": request.nonce,
            "code_challenge": s256(request.code_verifier),
            "code_challenge_method": "S256",
        }
        if request.idp_hint:
            query["kc_idp_hint"] = request.idp_hint
        return f"{self.ISSUER}/auth?{urlencode(query)}"

    def login(
        self,
        authorization_url: str,
        subject: str,
        email: str,
        *,
        email_verified: bool = True,
        name: str | None = None,
        picture: str | None = None,
        identity_provider: str | None = None,
    ) -> str:
        """The person signs in at ``authorization_url`` (one this fake made): the code the
        issuer sends back to the app's redirect URI."""
        parts = urlsplit(authorization_url)
        if f"{parts.scheme}://{parts.netloc}" != self.ISSUER:
            raise ValueError(f"{authorization_url} is not this issuer's")
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        request = self._requests.get(query.get("state", ""))
        if request is None:
            raise ValueError("this issuer never made an authorization URL with that state")
        return self._code_for(
            query["code_challenge"],
            query["redirect_uri"],
            query["nonce"],
            IdentityClaims(
                subject=subject,
                email=email,
                email_verified=email_verified,
                name=name,
                picture=picture,
                identity_provider=identity_provider,
            ),
        )

    def approve(self, state: str, claims: IdentityClaims) -> str:
        """Like ``login``, by the state of a request this fake made and with whole claims."""
        request = self._requests[state]
        return self._code_for(
            s256(request.code_verifier), request.redirect_uri, request.nonce, claims
        )

    def _code_for(
        self, challenge: str, redirect_uri: str, nonce: str, claims: IdentityClaims
    ) -> str:
        code = secrets.token_urlsafe(16)
        self._codes[code] = _Code(challenge, redirect_uri, nonce, claims)
        return code

    async def complete(
        self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> SignInResult:
        found = self._codes.pop(code, None)
        if found is None:
            raise SignInRejectedError("The identity provider refused: invalid_grant.")
        if s256(code_verifier) != found.code_challenge or redirect_uri != found.redirect_uri:
            raise SignInRejectedError("The identity provider refused: invalid_grant.")
        if nonce != found.nonce:
            raise SignInRejectedError("The ID token is not valid: nonce.")
        grant = _Grant(claims=found.claims)
        return SignInResult(claims=found.claims, tokens=self._issue(grant))

    def _issue(self, grant: _Grant) -> ProviderTokens:
        refresh = secrets.token_urlsafe(16)
        grant.refresh_tokens.append(refresh)
        self._grants[refresh] = grant
        now = self._clock.now()
        return ProviderTokens(
            access_token=f"access-{secrets.token_urlsafe(16)}",
            access_expires_at=now + self._access_ttl,
            refresh_token=refresh,
            refresh_expires_at=None if self._refresh_ttl is None else now + self._refresh_ttl,
            id_token=f"id-{secrets.token_urlsafe(16)}",
        )

    async def refresh(self, refresh_token: str) -> ProviderTokens:
        self.refresh_calls += 1
        if self.refresh_delay_s:
            await asyncio.sleep(self.refresh_delay_s)
        grant = self._grants.get(refresh_token)
        if grant is None or grant.revoked:
            raise SignInRejectedError("The identity provider refused: invalid_grant.")
        if grant.refresh_tokens[-1] != refresh_token:
            grant.revoked = True
            raise SignInRejectedError("The identity provider refused: invalid_grant.")
        return self._issue(grant)

    async def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)
        if self.revoke_error is not None:
            raise self.revoke_error
        grant = self._grants.get(refresh_token)
        if grant is not None:
            grant.revoked = True

    async def end_session_url(
        self, *, id_token_hint: str | None, post_logout_redirect_uri: str
    ) -> str | None:
        if self.end_session_error is not None:
            raise self.end_session_error
        query = {"client_id": self.CLIENT_ID, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        return f"{self.ISSUER}/logout?{urlencode(query)}"
