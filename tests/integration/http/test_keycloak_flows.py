"""Keycloak's extras end to end: the clustered app signing in at a real OpenID Connect provider
(oidc-provider on loopback), with Keycloak's admin and broker APIs served by the loopback
stand-in of tests/support/keycloak.py.

oidc-provider's subjects are ``sub-<login>`` and it echoes the ``kc_idp_hint`` the app sends as
an ``idp_hint`` claim; the app records the hint it sent as the session's identity provider and
reads that provider's token from the broker, as it would from Keycloak.
"""

import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import SqlaProviderTokenStore, create_database_engine
from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from entrypoints.settings import Settings, parse_encryption_keys
from tests.integration.http.conftest import Client, serve, sign_in_settings
from tests.support.db_dump import dump_database
from tests.support.keycloak import KeycloakStandin, SentEmail, run_keycloak_standin
from tests.support.oidc import OidcProvider, drive_login, run_oidc_provider

pytestmark = [pytest.mark.oidc, pytest.mark.postgres, pytest.mark.redis]

APP = "http://maestrist.localhost"
REALM = "maestrist"
VERIFY_REDIRECT = f"{APP}/"


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(
        redirect_uri=f"{APP}/api/auth/callback", post_logout_redirect_uri=f"{APP}/"
    ) as provider:
        yield provider


@pytest.fixture
def keycloak(oidc: OidcProvider) -> Iterator[KeycloakStandin]:
    """The realm's admin API trusts the same confidential client the app signs in with."""
    with run_keycloak_standin(
        REALM, oidc.client_id, oidc.client_secret, redirect_uris=frozenset({VERIFY_REDIRECT})
    ) as standin:
        yield standin


@pytest.fixture
def key_spec() -> str:
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def _settings(
    postgres_url: str, oidc: OidcProvider, key_spec: str, keycloak: KeycloakStandin | None
) -> Settings:
    extra = (
        {}
        if keycloak is None
        else {"MAESTRIST_KEYCLOAK_URL": keycloak.base_url, "MAESTRIST_KEYCLOAK_REALM": REALM}
    )
    return sign_in_settings(postgres_url, oidc, APP, key_spec, **extra)


@pytest.fixture
async def app(
    postgres_url: str, oidc: OidcProvider, keycloak: KeycloakStandin, key_spec: str
) -> AsyncIterator[Client]:
    async with serve(_settings(postgres_url, oidc, key_spec, keycloak), base_url=APP) as client:
        yield client


async def sign_in(client: Client, login: str, *, hint: str | None = None) -> dict[str, Any]:
    """Sign in as ``login`` (through ``hint``, Keycloak's ``kc_idp_hint``); the user's profile."""
    params = {"provider": hint} if hint else {}
    started = await client.get("/api/auth/login", params=params)
    assert started.status_code == 302, started.text
    callback = urlsplit(await drive_login(started.headers["location"], login))
    finished = await client.get(f"{callback.path}?{callback.query}")
    assert finished.status_code == 302, finished.text
    me = await client.get("/api/user/me")
    assert me.status_code == 200, me.text
    profile: dict[str, Any] = me.json()
    return profile


async def stored_token(
    url: str, key_spec: str, user_id: str, provider: str
) -> ProviderToken | None:
    """The provider token kept for the user, opened with the key the app was given."""
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with async_sessionmaker(engine)() as session:
            store = SqlaProviderTokenStore(session, AesGcmCipher(parse_encryption_keys(key_spec)))
            return await store.get(UserId(UUID(user_id)), ProviderKind(provider))
    finally:
        await engine.dispose()


def _user_path(subject: str) -> str:
    return f"/admin/realms/{REALM}/users/{subject}"


# ---- brokered tokens at sign-in -------------------------------------------------------------


async def test_signing_in_through_github_keeps_its_token_sealed(
    app: Client, keycloak: KeycloakStandin, postgres_url: str, key_spec: str
) -> None:
    access = f"ghu_{secrets.token_hex(16)}"
    refresh = f"ghr_{secrets.token_hex(16)}"
    keycloak.link_github(
        access_token=access, refresh_token=refresh, expires_in=28800, scope="repo,read:org"
    )

    me = await sign_in(app, "ada", hint="github")

    [call] = keycloak.broker_calls
    assert (call.method, call.path, call.status) == (
        "GET",
        f"/realms/{REALM}/broker/github/token",
        200,
    )
    assert call.authorization is not None
    assert call.authorization.startswith("Bearer ")
    assert call.authorization.removeprefix("Bearer ").strip()  # the session's access token
    assert keycloak.admin_tokens_issued == 0  # the person's token, not the service account's
    [session] = (await app.get("/api/auth/sessions")).json()["items"]
    assert session["identityProvider"] == "github"

    token = await stored_token(postgres_url, key_spec, me["id"], "github")
    assert token is not None
    assert (token.access_token, token.refresh_token) == (access, refresh)
    assert token.scopes == "repo,read:org"
    assert token.expires_at is not None
    assert await stored_token(postgres_url, key_spec, me["id"], "gitlab") is None

    rows = await dump_database(postgres_url)
    assert access not in rows
    assert refresh not in rows
    sealed = [line for line in rows.splitlines() if line.startswith("provider_tokens:")]
    assert len(sealed) == 1
    assert sealed[0].count("'v1.k1.") == 2  # access and refresh token, sealed with key k1


async def test_an_alias_the_broker_keeps_no_token_for_still_signs_in(
    app: Client, keycloak: KeycloakStandin, postgres_url: str, key_spec: str
) -> None:
    keycloak.link_github(access_token="gho_not_for_this_alias")

    me = await sign_in(app, "bea", hint="bitbucket")

    [call] = keycloak.broker_calls
    assert (call.path, call.status) == (f"/realms/{REALM}/broker/bitbucket/token", 400)
    assert await stored_token(postgres_url, key_spec, me["id"], "bitbucket") is None
    assert "provider_tokens:" not in await dump_database(postgres_url)
    assert (await app.get("/api/orgs")).status_code == 200


async def test_signing_in_without_a_provider_hint_asks_the_broker_nothing(
    app: Client, keycloak: KeycloakStandin, postgres_url: str
) -> None:
    keycloak.link_github(access_token="gho_unasked")

    await sign_in(app, "cal")

    assert keycloak.calls == []
    assert "provider_tokens:" not in await dump_database(postgres_url)


async def test_a_broker_outage_does_not_stop_the_sign_in(
    app: Client, keycloak: KeycloakStandin, postgres_url: str, key_spec: str
) -> None:
    access = f"gho_{secrets.token_hex(16)}"
    keycloak.link_github(access_token=access)
    keycloak.outage = True

    me = await sign_in(app, "dot", hint="github")

    assert [(c.path, c.status) for c in keycloak.broker_calls] == [
        (f"/realms/{REALM}/broker/github/token", 503)
    ]
    assert await stored_token(postgres_url, key_spec, me["id"], "github") is None
    assert (await app.get("/api/orgs")).status_code == 200

    keycloak.outage = False
    again = await sign_in(app, "dot", hint="github")  # the next sign-in picks the token up
    assert again["id"] == me["id"]
    token = await stored_token(postgres_url, key_spec, me["id"], "github")
    assert token is not None
    assert token.access_token == access


# ---- email change and verification ----------------------------------------------------------


async def test_changing_the_email_unverifies_it_and_sends_a_link(
    app: Client, keycloak: KeycloakStandin, oidc: OidcProvider
) -> None:
    keycloak.add_user("sub-ivy", "ivy@example.com", first_name="Ivy")
    before = await sign_in(app, "ivy")
    assert before["emailVerified"] is True

    changed = await app.post("/api/user/email", json={"email": "Ivy.New@Example.ORG"})

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["id"], body["email"], body["emailVerified"]) == (
        before["id"],
        "Ivy.New@example.org",
        False,
    )
    update, verify = (c for c in keycloak.admin_calls if c.method == "PUT")
    assert (update.path, update.status) == (_user_path("sub-ivy"), 204)
    assert (update.body["email"], update.body["emailVerified"]) == ("Ivy.New@example.org", False)
    assert (verify.path, verify.status) == (f"{_user_path('sub-ivy')}/send-verify-email", 204)
    assert verify.query == {"client_id": [oidc.client_id], "redirect_uri": [VERIFY_REDIRECT]}
    assert keycloak.outbox == [
        SentEmail("sub-ivy", "Ivy.New@example.org", oidc.client_id, VERIFY_REDIRECT)
    ]

    gated = await app.get("/api/orgs")
    assert gated.status_code == 403
    assert gated.json()["code"] == "email-not-verified"
    assert gated.json()["links"]["resend"] == "/api/user/email/verification"
    me = await app.get("/api/user/me")
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["emailVerified"]) == ("Ivy.New@example.org", False)

    resent = await app.post("/api/user/email/verification")
    assert resent.status_code == 202
    assert [e.email for e in keycloak.outbox] == ["Ivy.New@example.org"] * 2
    assert keycloak.admin_tokens_issued == 1


async def test_the_link_is_sent_again_only_while_the_email_is_unverified(
    app: Client, keycloak: KeycloakStandin
) -> None:
    keycloak.add_user("sub-unverified", "unverified@example.com", email_verified=False)
    keycloak.add_user("sub-alice", "alice@example.com")

    assert (await sign_in(app, "unverified"))["emailVerified"] is False
    assert (await app.post("/api/user/email/verification")).status_code == 202
    assert [e.user_id for e in keycloak.outbox] == ["sub-unverified"]

    assert (await sign_in(app, "alice"))["emailVerified"] is True
    verified = await app.post("/api/user/email/verification")
    assert verified.status_code == 409
    assert verified.json()["code"] == "email-already-verified"
    assert [e.user_id for e in keycloak.outbox] == ["sub-unverified"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"email": "two@at@example.org"},
        {"email": "spaced out@example.org"},
        {"email": ""},
        {"email": 42},
        {},
        {"email": "ok@example.org", "verified": True},
    ],
    ids=["no-at", "two-ats", "space", "empty", "number", "missing", "unknown-field"],
)
async def test_an_invalid_email_is_422_and_reaches_no_one(
    app: Client, keycloak: KeycloakStandin, body: dict[str, Any]
) -> None:
    keycloak.add_user("sub-jo", "jo@example.com")
    await sign_in(app, "jo")

    response = await app.post("/api/user/email", json=body)

    assert response.status_code == 422, response.text
    assert keycloak.calls == []
    me = (await app.get("/api/user/me")).json()
    assert (me["email"], me["emailVerified"]) == ("jo@example.com", True)


async def test_an_api_key_may_not_change_the_email_or_ask_for_links(
    app: Client, keycloak: KeycloakStandin
) -> None:
    keycloak.add_user("sub-kim", "kim@example.com")
    await sign_in(app, "kim")
    created = await app.post("/api/keys", json={"name": "ci"})
    assert created.status_code == 201, created.text
    with_key = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await app.get("/api/user/me", headers=with_key)).status_code == 200

    change = await app.post("/api/user/email", json={"email": "k@example.org"}, headers=with_key)
    resend = await app.post("/api/user/email/verification", headers=with_key)

    for refused in (change, resend):
        assert refused.status_code == 403
        assert refused.json()["code"] == "credential-not-allowed"
    assert keycloak.calls == []
    assert (await app.get("/api/user/me")).json()["email"] == "kim@example.com"


async def test_when_keycloak_refuses_or_is_down_the_email_stays_as_it_was(
    app: Client, keycloak: KeycloakStandin
) -> None:
    await sign_in(app, "lou")  # not a user of the stand-in's realm

    unknown = await app.post("/api/user/email", json={"email": "lou@example.org"})
    keycloak.add_user("sub-lou", "lou@example.com")
    keycloak.outage = True
    down = await app.post("/api/user/email", json={"email": "lou@example.org"})
    resend = await app.post("/api/user/email/verification")

    for failed in (unknown, down):
        assert failed.status_code == 503
        assert failed.headers["retry-after"]
    assert resend.status_code == 409  # still verified: the gate never asked Keycloak
    me = (await app.get("/api/user/me")).json()
    assert (me["email"], me["emailVerified"]) == ("lou@example.com", True)
    assert (await app.get("/api/orgs")).status_code == 200
    assert keycloak.outbox == []


async def test_an_email_another_account_has_is_not_an_outage(
    app: Client, keycloak: KeycloakStandin
) -> None:
    keycloak.add_user("sub-max", "max@example.com")
    keycloak.add_user("sub-other", "taken@example.org")
    await sign_in(app, "max")

    taken = await app.post("/api/user/email", json={"email": "taken@example.org"})

    assert [c.status for c in keycloak.admin_calls if c.method == "PUT"] == [409]
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == "email-taken"
    assert (await app.get("/api/user/me")).json()["email"] == "max@example.com"


# ---- without Keycloak -----------------------------------------------------------------------


async def test_without_keycloak_the_address_is_changed_at_the_provider_only(
    postgres_url: str, oidc: OidcProvider, key_spec: str
) -> None:
    """No change route; the verification route is this server's own confirmation mail
    (tests/integration/http/test_email_confirmation.py), which a verified person needs not."""
    async with serve(_settings(postgres_url, oidc, key_spec, None), base_url=APP) as client:
        await sign_in(client, "ned", hint="github")
        change = await client.post("/api/user/email", json={"email": "ned@example.org"})
        resend = await client.post("/api/user/email/verification")

    assert change.status_code == 404, change.text
    assert resend.status_code == 409, resend.text
    assert resend.json()["code"] == "email-already-verified"
    assert "provider_tokens:" not in await dump_database(postgres_url)
