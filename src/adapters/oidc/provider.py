import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from application.errors import DependencyUnavailableError, SignInRejectedError
from application.ports.clock import Clock
from application.ports.identity_provider import (
    AuthorizationRequest,
    IdentityClaims,
    IdentityProvider,
    SignInResult,
)
from domain.identity.sessions import ProviderTokens

__all__ = ("OidcIdentityProvider", "OidcSettings")

_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
_DISCOVERY_TTL_S = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    timeout_s: float = 10.0


class OidcIdentityProvider(IdentityProvider):
    """OpenID Connect with authlib: discovery, code + PKCE, ID-token validation against the
    provider's JWKS (re-read when a new key id appears), refresh, revocation and RP-initiated
    logout. Keycloak's ``kc_idp_hint`` is passed through. Token lifetimes the provider gives
    in seconds become instants on ``clock``."""

    def __init__(
        self, settings: OidcSettings, transport: httpx.AsyncBaseTransport, clock: Clock
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._transport = transport
        self._http = httpx.AsyncClient(transport=transport, timeout=settings.timeout_s)
        """Shares the app's transport and is never closed here (see the transport's owner)."""
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    def _client(self, metadata: dict[str, Any]) -> AsyncOAuth2Client:
        """A client per operation (authlib keeps token state on it) over one shared pool,
        authenticating the way the discovery document says the provider takes."""
        token_auth = _secret_auth_method(metadata.get("token_endpoint_auth_methods_supported"))
        revocation_auth = _secret_auth_method(
            metadata.get("revocation_endpoint_auth_methods_supported"), default=token_auth
        )
        return AsyncOAuth2Client(
            client_id=self._settings.client_id,
            client_secret=self._settings.client_secret,
            token_endpoint_auth_method=token_auth,
            revocation_endpoint_auth_method=revocation_auth,
            scope=self._settings.scopes,
            code_challenge_method="S256",
            transport=self._transport,
            timeout=self._settings.timeout_s,
        )

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError("The identity provider cannot be reached.") from exc
        if response.status_code != 200:
            raise DependencyUnavailableError(
                f"The identity provider answered {response.status_code} for {url}."
            )
        body: dict[str, Any] = response.json()
        return body

    async def _discovery(self) -> dict[str, Any]:
        async with self._lock:
            stale = time.monotonic() - self._metadata_at > _DISCOVERY_TTL_S
            if self._metadata is None or stale:
                issuer = self._settings.issuer.rstrip("/")
                metadata = await self._get(f"{issuer}/.well-known/openid-configuration")
                if metadata.get("issuer") != self._settings.issuer:
                    raise DependencyUnavailableError(
                        "The identity provider's discovery document names another issuer."
                    )
                self._metadata, self._metadata_at = metadata, time.monotonic()
            return self._metadata

    async def _key_set(self, *, reload: bool) -> KeySet:
        metadata = await self._discovery()
        if self._keys is None or reload:
            self._keys = KeySet.import_key_set(await self._get(metadata["jwks_uri"]))  # type: ignore[arg-type]
        return self._keys

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        metadata = await self._discovery()
        extra = {"kc_idp_hint": request.idp_hint} if request.idp_hint else {}
        url, _ = self._client(metadata).create_authorization_url(
            metadata["authorization_endpoint"],
            state=request.state,
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            redirect_uri=request.redirect_uri,
            **extra,
        )
        return str(url)

    async def complete(
        self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> SignInResult:
        metadata = await self._discovery()
        token = await self._token_call(
            self._client(metadata).fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
            )
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRejectedError("The identity provider sent no ID token.")
        claims = await self._validated_claims(id_token, nonce)
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise SignInRejectedError("The identity provider shared no email address.")
        return SignInResult(
            claims=IdentityClaims(
                subject=str(claims["sub"]),
                email=email,
                email_verified=_is_true(claims.get("email_verified")),
                name=_text(claims.get("name")) or _text(claims.get("preferred_username")),
                picture=_text(claims.get("picture")),
                identity_provider=_text(claims.get("identity_provider")),
            ),
            tokens=_tokens(token, self._clock.now()),
        )

    async def refresh(self, refresh_token: str) -> ProviderTokens:
        metadata = await self._discovery()
        token = await self._token_call(
            self._client(metadata).refresh_token(
                metadata["token_endpoint"], refresh_token=refresh_token
            )
        )
        return _tokens(token, self._clock.now())

    async def revoke(self, refresh_token: str) -> None:
        metadata = await self._discovery()
        endpoint = metadata.get("revocation_endpoint")
        if not endpoint:
            return
        try:
            response = await self._client(metadata).revoke_token(
                endpoint,
                token=refresh_token,
                token_type_hint="refresh_token",  # noqa: S106 - a hint name, not a secret
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError("The identity provider cannot be reached.") from exc
        if response.status_code >= 400:
            raise SignInRejectedError("The identity provider refused to revoke the token.")

    async def end_session_url(
        self, *, id_token_hint: str | None, post_logout_redirect_uri: str
    ) -> str | None:
        metadata = await self._discovery()
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            return None
        params = {
            "client_id": self._settings.client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return str(httpx.URL(endpoint, params=params))

    async def _token_call(self, call: Any) -> dict[str, Any]:
        try:
            token: dict[str, Any] = dict(await call)
        except OAuthError as exc:
            raise SignInRejectedError(f"The identity provider refused: {exc.error}.") from exc
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError("The identity provider cannot be reached.") from exc
        if "access_token" not in token:
            raise SignInRejectedError("The identity provider sent no access token.")
        return token

    async def _validated_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        registry = JWTClaimsRegistry(
            iss={"essential": True, "value": self._settings.issuer},
            aud={"essential": True, "value": self._settings.client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
            leeway=30,
        )
        for reload in (False, True):
            try:
                decoded = jwt.decode(
                    id_token, await self._key_set(reload=reload), algorithms=_ALGORITHMS
                )
            except (JoseError, ValueError) as exc:
                if reload:
                    raise SignInRejectedError("The ID token's signature does not verify.") from exc
                continue
            try:
                registry.validate(decoded.claims)
            except JoseError as exc:
                raise SignInRejectedError(f"The ID token is not valid: {exc}.") from exc
            return dict(decoded.claims)
        raise SignInRejectedError("The ID token could not be verified.")


_BASIC, _POST = "client_secret_basic", "client_secret_post"


def _secret_auth_method(supported: object, default: str = _BASIC) -> str:
    """client_secret_basic where the provider takes it (the default of OIDC Discovery when it
    says nothing, unless ``default`` says otherwise), else client_secret_post if it takes
    that."""
    if not isinstance(supported, list) or not supported:
        return default
    return _POST if _BASIC not in supported and _POST in supported else _BASIC


def _is_true(value: object) -> bool:
    """A boolean claim as providers send it: JSON ``true``, or the string ``"true"`` (Cognito,
    some Azure AD B2C and ADFS setups)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _tokens(token: dict[str, Any], now: datetime) -> ProviderTokens:
    expires_in = token.get("expires_in")
    refresh_expires_in = token.get("refresh_expires_in")
    return ProviderTokens(
        access_token=str(token["access_token"]),
        access_expires_at=now + timedelta(seconds=float(expires_in or 300)),
        refresh_token=_text(token.get("refresh_token")),
        refresh_expires_at=(
            now + timedelta(seconds=float(refresh_expires_in))
            if isinstance(refresh_expires_in, int | float) and refresh_expires_in > 0
            else None
        ),
        id_token=_text(token.get("id_token")),
    )
