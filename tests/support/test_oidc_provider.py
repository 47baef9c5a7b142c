"""The loopback OIDC test provider works end to end with an ordinary OIDC client (authlib)."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.oidc import (
    OidcProvider,
    OidcProviderError,
    drive_login,
    drive_logout,
    run_oidc_provider,
)

pytestmark = pytest.mark.oidc

# Nothing listens there: drive_login stops at the redirect and never requests it.
REDIRECT_URI = "http://127.0.0.1:9/auth/oidc/callback"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:9/signed-out"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with run_oidc_provider(REDIRECT_URI, POST_LOGOUT_REDIRECT_URI) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The user's browser: it keeps the provider's session cookies between sign-in and logout."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def discover(provider: OidcProvider) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(provider.discovery_url)
    response.raise_for_status()
    return cast(dict[str, Any], response.json())


@dataclass(frozen=True)
class SignIn:
    provider: OidcProvider
    metadata: dict[str, Any]
    tokens: dict[str, Any]
    nonce: str

    async def id_token_claims(self) -> dict[str, Any]:
        """The id_token's claims, after checking its signature, iss, aud, nonce and exp."""
        async with httpx.AsyncClient(timeout=10) as client:
            jwks = (await client.get(self.metadata["jwks_uri"])).json()
        token = jwt.decode(self.tokens["id_token"], KeySet.import_key_set(jwks), ["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.provider.issuer},
            aud={"essential": True, "value": self.provider.client_id},
            nonce={"essential": True, "value": self.nonce},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        ).validate(token.claims)
        return token.claims


def oauth_client(
    provider: OidcProvider, auth_method: str = "client_secret_basic"
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=auth_method,
        revocation_endpoint_auth_method=auth_method,
        scope="openid email profile",
        redirect_uri=provider.redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


async def sign_in(
    provider: OidcProvider,
    login: str,
    *,
    browser: httpx.AsyncClient | None = None,
    auth_method: str = "client_secret_basic",
    **authorization_params: str,
) -> SignIn:
    """Authorization code + PKCE flow, as an app would run it, with `login` at the provider."""
    metadata = await discover(provider)
    verifier, nonce = generate_token(48), generate_token(20)
    async with oauth_client(provider, auth_method) as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            **authorization_params,
        )
        callback = await drive_login(url, login, client=browser)
        assert callback.startswith(f"{provider.redirect_uri}?")
        tokens = await client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=verifier,
        )
    return SignIn(provider=provider, metadata=metadata, tokens=dict(tokens), nonce=nonce)


async def refresh(
    provider: OidcProvider, metadata: dict[str, Any], refresh_token: str
) -> httpx.Response:
    """The token endpoint's raw answer to a refresh_token grant (200 or an error)."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(
            metadata["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(provider.client_id, provider.client_secret),
        )


async def test_discovery_document_names_the_endpoints_and_s256(provider: OidcProvider) -> None:
    metadata = await discover(provider)

    OpenIDProviderMetadata(metadata).validate()
    assert metadata["issuer"] == provider.issuer
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
    ):
        assert metadata[endpoint].startswith(f"{provider.issuer}/"), endpoint
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "email", "profile", "offline_access"} <= set(metadata["scopes_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )


async def test_code_flow_with_pkce_gives_tokens_and_a_valid_id_token(
    provider: OidcProvider,
) -> None:
    signed_in = await sign_in(provider, "alice")

    tokens = signed_in.tokens
    assert tokens["token_type"] == "Bearer"
    assert tokens["access_token"]
    assert tokens["refresh_token"]
    assert tokens["expires_in"] == 60
    claims = await signed_in.id_token_claims()
    assert claims["sub"] == "sub-alice"
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice Example"
    assert claims["preferred_username"] == "alice"
    assert "idp_hint" not in claims

    async with httpx.AsyncClient(timeout=10) as client:
        userinfo = await client.get(
            signed_in.metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == "sub-alice"
    assert userinfo.json()["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("login", "email", "verified"),
    [
        ("bob", "bob@example.com", True),
        ("unverified", "unverified@example.com", False),
        ("fresh-user-7", "fresh-user-7@example.com", True),
    ],
)
async def test_accounts_have_stable_subjects_and_emails(
    provider: OidcProvider, login: str, email: str, verified: bool
) -> None:
    first = await (await sign_in(provider, login)).id_token_claims()
    again = await (await sign_in(provider, login)).id_token_claims()

    assert first["sub"] == again["sub"] == f"sub-{login}"
    assert first["email"] == email
    assert first["email_verified"] is verified


async def test_authorization_without_pkce_is_refused(provider: OidcProvider) -> None:
    metadata = await discover(provider)
    query = urlencode(
        {
            "client_id": provider.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": provider.redirect_uri,
            "state": "no-pkce",
        }
    )

    callback = await drive_login(f"{metadata['authorization_endpoint']}?{query}", "alice")

    params = parse_qs(urlsplit(callback).query)
    assert params["error"] == ["invalid_request"]
    assert params["state"] == ["no-pkce"]
    assert "code" not in params


async def test_client_secret_post_authenticates_too(provider: OidcProvider) -> None:
    signed_in = await sign_in(provider, "alice", auth_method="client_secret_post")

    assert (await signed_in.id_token_claims())["sub"] == "sub-alice"


async def test_refresh_rotates_the_refresh_token(provider: OidcProvider) -> None:
    signed_in = await sign_in(provider, "alice")
    old_refresh_token = signed_in.tokens["refresh_token"]

    async with oauth_client(provider) as client:
        refreshed = await client.refresh_token(
            signed_in.metadata["token_endpoint"], refresh_token=old_refresh_token
        )

    assert refreshed["access_token"] != signed_in.tokens["access_token"]
    assert refreshed["refresh_token"] != old_refresh_token
    assert refreshed["expires_in"] == 60
    replay = await refresh(provider, signed_in.metadata, old_refresh_token)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


async def test_a_revoked_refresh_token_cannot_refresh(provider: OidcProvider) -> None:
    signed_in = await sign_in(provider, "bob")
    refresh_token = signed_in.tokens["refresh_token"]

    async with oauth_client(provider) as client:
        revoked = await client.revoke_token(
            signed_in.metadata["revocation_endpoint"],
            token=refresh_token,
            token_type_hint="refresh_token",
        )
    assert revoked.status_code == 200

    answer = await refresh(provider, signed_in.metadata, refresh_token)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_kc_idp_hint_reaches_the_provider(provider: OidcProvider) -> None:
    signed_in = await sign_in(provider, "alice", kc_idp_hint="github")

    assert (await signed_in.id_token_claims())["idp_hint"] == "github"


async def test_access_token_ttl_is_configurable_and_enforced() -> None:
    with run_oidc_provider(REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, access_ttl_s=2) as short_lived:
        signed_in = await sign_in(short_lived, "alice")
        assert signed_in.tokens["expires_in"] == 2
        claims = await signed_in.id_token_claims()
        assert claims["exp"] - claims["iat"] == 2

        # polls until the provider refuses the token, then checks it did not do so before the
        # token's second of expiry (the access token may be stamped a second before the id
        # token, whose claims are read here)
        async with httpx.AsyncClient(timeout=10) as client, asyncio.timeout(30):
            while True:
                answer = await client.get(
                    signed_in.metadata["userinfo_endpoint"],
                    headers={"Authorization": f"Bearer {signed_in.tokens['access_token']}"},
                )
                if answer.status_code != 200:
                    break
                await asyncio.sleep(0.1)
        assert answer.status_code == 401
        assert time.time() >= claims["exp"] - 1

        refreshed = await refresh(
            short_lived, signed_in.metadata, signed_in.tokens["refresh_token"]
        )
        assert refreshed.status_code == 200
        assert refreshed.json()["expires_in"] == 2


def test_a_provider_that_cannot_start_is_reported_with_its_last_words() -> None:
    with (
        pytest.raises(OidcProviderError) as refused,
        run_oidc_provider(REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, access_ttl_s=0),
    ):
        pytest.fail("a provider with no access-token lifetime started")
    assert "exited with 2" in str(refused.value)
    assert "OIDC_ACCESS_TOKEN_TTL must be a whole number of seconds" in str(refused.value)


async def test_accounts_can_be_added_and_overridden() -> None:
    accounts: dict[str, dict[str, object]] = {
        "carol": {"email": "carol@corp.example", "name": "Carol C", "sub": "carol-1"},
        "bob": {"email_verified": False},
    }
    with run_oidc_provider(REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, accounts=accounts) as custom:
        carol = await (await sign_in(custom, "carol")).id_token_claims()
        bob = await (await sign_in(custom, "bob")).id_token_claims()

    assert (carol["sub"], carol["email"], carol["name"]) == (
        "carol-1",
        "carol@corp.example",
        "Carol C",
    )
    assert carol["email_verified"] is True
    assert (bob["sub"], bob["email"], bob["email_verified"]) == (
        "sub-bob",
        "bob@example.com",
        False,
    )


async def test_end_session_returns_to_the_post_logout_redirect_uri(
    provider: OidcProvider, browser: httpx.AsyncClient
) -> None:
    signed_in = await sign_in(provider, "alice", browser=browser)
    query = urlencode(
        {
            "id_token_hint": signed_in.tokens["id_token"],
            "post_logout_redirect_uri": provider.post_logout_redirect_uri,
            "state": "bye",
        }
    )

    landing = await drive_logout(
        f"{signed_in.metadata['end_session_endpoint']}?{query}", client=browser
    )

    assert landing == f"{provider.post_logout_redirect_uri}?state=bye"
    # Without offline_access the refresh token belongs to the provider session that just ended.
    answer = await refresh(provider, signed_in.metadata, signed_in.tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_end_session_without_a_provider_session_still_returns(
    provider: OidcProvider,
) -> None:
    signed_in = await sign_in(provider, "bob")
    query = urlencode(
        {
            "id_token_hint": signed_in.tokens["id_token"],
            "post_logout_redirect_uri": provider.post_logout_redirect_uri,
        }
    )

    landing = await drive_logout(f"{signed_in.metadata['end_session_endpoint']}?{query}")

    assert landing == provider.post_logout_redirect_uri
