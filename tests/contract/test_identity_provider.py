"""The IdentityProvider contract: the fake and the OIDC adapter against a real issuer
(oidc-provider on loopback, started once for this module)."""

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.oidc import OidcIdentityProvider, OidcSettings
from adapters.system import SystemClock
from application.errors import SignInRejectedError
from application.ports.identity_provider import AuthorizationRequest, IdentityProvider
from domain.identity.sessions import ProviderTokens
from tests.fakes import FakeClock, FakeIdentityProvider
from tests.support.oidc import OidcProvider, drive_login, run_oidc_provider

REDIRECT = "http://maestrist.localhost/api/auth/callback"
AFTER_LOGOUT = "http://maestrist.localhost/"


@dataclass(frozen=True)
class Person:
    """Who signs in at the issuer, and the claims the issuer holds for them."""

    login: str
    subject: str
    email: str
    email_verified: bool
    name: str


ALICE = Person("alice", "sub-alice", "alice@example.com", True, "Alice Example")
UNVERIFIED = Person(
    "unverified", "sub-unverified", "unverified@example.com", False, "Unverified Example"
)


@dataclass
class Issuer:
    provider: IdentityProvider
    sign_in: Callable[[str, Person], Awaitable[str]]
    """Plays the person at the issuer for the authorization URL given; returns the code."""


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(REDIRECT, AFTER_LOGOUT) as provider:
        yield provider


@pytest.fixture(params=["fake", pytest.param("oidc", marks=pytest.mark.oidc)])
async def issuer(request: pytest.FixtureRequest) -> AsyncIterator[Issuer]:
    if request.param == "fake":
        fake = FakeIdentityProvider(FakeClock(datetime.now(UTC)))

        async def log_in_at_the_fake(url: str, person: Person) -> str:
            return fake.login(
                url,
                person.subject,
                person.email,
                email_verified=person.email_verified,
                name=person.name,
            )

        yield Issuer(fake, log_in_at_the_fake)
        return
    oidc: OidcProvider = request.getfixturevalue("oidc")
    transport = httpx.AsyncHTTPTransport()
    real = OidcIdentityProvider(
        OidcSettings(
            issuer=oidc.issuer, client_id=oidc.client_id, client_secret=oidc.client_secret
        ),
        transport,
        SystemClock(),
    )

    async def log_in_at_the_issuer(url: str, person: Person) -> str:
        callback = await drive_login(url, person.login)
        query = parse_qs(urlsplit(callback).query)
        assert "code" in query, callback
        return query["code"][0]

    try:
        yield Issuer(real, log_in_at_the_issuer)
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


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _code(issuer: Issuer, auth: AuthorizationRequest, person: Person = ALICE) -> str:
    return await issuer.sign_in(await issuer.provider.authorization_url(auth), person)


async def _tokens(issuer: Issuer) -> ProviderTokens:
    auth = _request()
    result = await issuer.provider.complete(
        code=await _code(issuer, auth),
        code_verifier=auth.code_verifier,
        redirect_uri=REDIRECT,
        nonce=auth.nonce,
    )
    return result.tokens


@pytest.mark.parametrize("hint", ["github", None])
async def test_the_authorization_url_carries_the_request(issuer: Issuer, hint: str | None) -> None:
    auth = _request(hint)
    query = parse_qs(urlsplit(await issuer.provider.authorization_url(auth)).query)
    assert query["state"] == [auth.state]
    assert query["nonce"] == [auth.nonce]
    assert query["code_challenge"] == [_s256(auth.code_verifier)]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["response_type"] == ["code"]
    assert "openid" in query["scope"][0].split()
    assert auth.code_verifier not in str(query)
    assert query.get("kc_idp_hint") == ([hint] if hint else None)


@pytest.mark.parametrize("person", [ALICE, UNVERIFIED], ids=["verified", "unverified"])
async def test_a_code_yields_the_claims_and_tokens_once(issuer: Issuer, person: Person) -> None:
    auth = _request()
    code = await _code(issuer, auth, person)
    started = datetime.now(UTC)
    result = await issuer.provider.complete(
        code=code, code_verifier=auth.code_verifier, redirect_uri=REDIRECT, nonce=auth.nonce
    )
    claims = result.claims
    assert (claims.subject, claims.email, claims.email_verified, claims.name) == (
        person.subject,
        person.email,
        person.email_verified,
        person.name,
    )
    tokens = result.tokens
    assert tokens.access_token
    assert tokens.refresh_token
    assert tokens.id_token
    assert tokens.access_expires_at > started
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code=code, code_verifier=auth.code_verifier, redirect_uri=REDIRECT, nonce=auth.nonce
        )


async def test_an_unknown_code_is_refused(issuer: Issuer) -> None:
    auth = _request()
    await issuer.provider.authorization_url(auth)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code="not-a-code",
            code_verifier=auth.code_verifier,
            redirect_uri=REDIRECT,
            nonce=auth.nonce,
        )


async def test_a_wrong_nonce_is_refused(issuer: Issuer) -> None:
    auth = _request()
    code = await _code(issuer, auth)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code=code, code_verifier=auth.code_verifier, redirect_uri=REDIRECT, nonce="other"
        )


async def test_a_wrong_code_verifier_is_refused(issuer: Issuer) -> None:
    auth = _request()
    code = await _code(issuer, auth)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code=code,
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=REDIRECT,
            nonce=auth.nonce,
        )


async def test_another_redirect_uri_is_refused(issuer: Issuer) -> None:
    auth = _request()
    code = await _code(issuer, auth)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.complete(
            code=code,
            code_verifier=auth.code_verifier,
            redirect_uri="http://maestrist.localhost/elsewhere",
            nonce=auth.nonce,
        )


async def test_refresh_rotates_and_a_used_refresh_token_is_refused(issuer: Issuer) -> None:
    tokens = await _tokens(issuer)
    first = tokens.refresh_token
    assert first is not None
    renewed = await issuer.provider.refresh(first)
    assert renewed.access_token
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token
    assert renewed.refresh_token != first
    again = await issuer.provider.refresh(renewed.refresh_token)
    assert again.refresh_token
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh(first)


async def test_a_reused_refresh_token_revokes_the_whole_grant(issuer: Issuer) -> None:
    first = (await _tokens(issuer)).refresh_token
    assert first is not None
    latest = (await issuer.provider.refresh(first)).refresh_token
    assert latest is not None
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh(first)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh(latest)


async def test_a_revoked_refresh_token_is_refused(issuer: Issuer) -> None:
    other = (await _tokens(issuer)).refresh_token
    token = (await _tokens(issuer)).refresh_token
    assert token is not None
    assert other is not None
    await issuer.provider.revoke(token)
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh(token)
    assert (await issuer.provider.refresh(other)).access_token
    await issuer.provider.revoke(token)  # revoking again, or an unknown token, is no error
    await issuer.provider.revoke("not-a-token")


async def test_an_unknown_refresh_token_is_refused(issuer: Issuer) -> None:
    with pytest.raises(SignInRejectedError):
        await issuer.provider.refresh("not-a-token")


@pytest.mark.parametrize("with_hint", [True, False], ids=["id-token-hint", "no-hint"])
async def test_the_logout_url_carries_the_hint_and_the_way_back(
    issuer: Issuer, *, with_hint: bool
) -> None:
    hint = (await _tokens(issuer)).id_token if with_hint else None
    url = await issuer.provider.end_session_url(
        id_token_hint=hint, post_logout_redirect_uri=AFTER_LOGOUT
    )
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query.get("id_token_hint") == ([hint] if hint else None)
    assert query["post_logout_redirect_uri"] == [AFTER_LOGOUT]
