"""The IdentityProvider contract: the fake and the OIDC adapter against a real issuer."""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.oidc import OidcIdentityProvider, OidcSettings
from application.errors import SignInRejectedError
from application.ports.identity_provider import (
    AuthorizationRequest,
    IdentityClaims,
    IdentityProvider,
    SignInResult,
)
from tests.fakes import FakeClock, FakeIdentityProvider
from tests.support.oidc import OidcProvider, drive_login, run_oidc_provider

REDIRECT = "http://maestrist.localhost/api/auth/callback"
AFTER_LOGOUT = "http://maestrist.localhost/"


@dataclass
class Issuer:
    provider: IdentityProvider
    sign_in: Callable[[str, AuthorizationRequest], Awaitable[str]]
    """Plays the person at the issuer for the request whose URL is given; returns the code."""


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(REDIRECT, AFTER_LOGOUT) as provider:
        yield provider


@pytest.fixture(params=["fake", pytest.param("oidc", marks=pytest.mark.oidc)])
async def issuer(request: pytest.FixtureRequest) -> AsyncIterator[Issuer]:
    if request.param == "fake":
        fake = FakeIdentityProvider(FakeClock())

        async def approve(_url: str, auth: AuthorizationRequest) -> str:
            claims = IdentityClaims(
                subject="sub-alice",
                email="alice@example.com",
                email_verified=True,
                name="Alice",
                picture=None,
                identity_provider=None,
            )
            return fake.approve(auth.state, claims)

        yield Issuer(fake, approve)
        return
    oidc: OidcProvider = request.getfixturevalue("oidc")
    transport = httpx.AsyncHTTPTransport()
    real = OidcIdentityProvider(
        OidcSettings(
            issuer=oidc.issuer, client_id=oidc.client_id, client_secret=oidc.client_secret
        ),
        transport,
    )

    async def log_in(url: str, _auth: AuthorizationRequest) -> str:
        callback = await drive_login(url, "alice")
        return parse_qs(urlsplit(callback).query)["code"][0]

    try:
        yield Issuer(real, log_in)
    finally:
        await transport.aclose()


def _request(hint: str | None = None) -> AuthorizationRequest:
    return AuthorizationRequest(
        state=secrets.token_urlsafe(16),
        nonce=secrets.token_urlsafe(16),
        code_verifier=secrets.token_urlsafe(48),
        redirect_uri=REDIRECT,
        idp_hint=hint,
    )


async def _signed_in(issuer: Issuer, auth: AuthorizationRequest) -> tuple[str, SignInResult]:
    url = await issuer.provider.authorization_url(auth)
    code = await issuer.sign_in(url, auth)
    result = await issuer.provider.complete(
        code=code, code_verifier=auth.code_verifier, redirect_uri=REDIRECT, nonce=auth.nonce
    )
    return code, result


async def test_a_code_signs_in_once(issuer: Issuer) -> None:
    auth = _request()
    code, result = await _signed_in(issuer, auth)
    claims = result.claims
    assert (claims.subject, claims.email, claims.email_verified) == (
        "sub-alice",
        "alice@example.com",
        True,
    )
    assert result.tokens.refresh_token
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code=code, code_verifier=auth.code_verifier, redirect_uri=REDIRECT, nonce=auth.nonce
        )


async def test_a_wrong_nonce_or_verifier_is_refused(issuer: Issuer) -> None:
    auth = _request()
    code = await issuer.sign_in(await issuer.provider.authorization_url(auth), auth)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code=code, code_verifier=auth.code_verifier, redirect_uri=REDIRECT, nonce="other"
        )


async def test_refresh_rotates_and_revocation_ends_the_grant(issuer: Issuer) -> None:
    _, result = await _signed_in(issuer, _request())
    first = result.tokens.refresh_token
    assert first is not None
    renewed = await issuer.provider.refresh(first)
    assert renewed.access_token
    assert renewed.refresh_token
    assert renewed.refresh_token != first
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh(first)
    _, other = await _signed_in(issuer, _request())
    token = other.tokens.refresh_token
    assert token is not None
    await issuer.provider.revoke(token)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh(token)


async def test_logout_url_carries_the_hint_and_the_way_back(issuer: Issuer) -> None:
    url = await issuer.provider.end_session_url(
        id_token_hint="hint-token", post_logout_redirect_uri=AFTER_LOGOUT
    )
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["id_token_hint"] == ["hint-token"]
    assert query["post_logout_redirect_uri"] == [AFTER_LOGOUT]


async def test_the_authorization_url_names_state_and_hint(issuer: Issuer) -> None:
    auth = _request(hint="github")
    query = parse_qs(urlsplit(await issuer.provider.authorization_url(auth)).query)
    assert query["state"] == [auth.state]
