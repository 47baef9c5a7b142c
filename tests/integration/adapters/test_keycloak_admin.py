"""KeycloakIdentityAdmin against the loopback Keycloak stand-in (tests/support/keycloak.py).

The stand-in answers in Keycloak's HTTP shapes and records every request, so these tests check
what goes over the wire: the service-account token, the admin API calls and the broker read.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.keycloak import KeycloakIdentityAdmin, KeycloakSettings
from application.errors import DependencyUnavailableError
from domain.identity.value_objects import EmailAddress
from tests.support.keycloak import KeycloakStandin, SentEmail, run_keycloak_standin

REALM = "maestrist"
CLIENT_ID = "maestrist-server"
CLIENT_SECRET = "standin-client-secret"  # a loopback stand-in's secret
VERIFY_REDIRECT = "http://maestrist.localhost/"
USER_TOKEN = "user-access-token-from-the-session"


@pytest.fixture
def standin() -> Iterator[KeycloakStandin]:
    with run_keycloak_standin(
        REALM, CLIENT_ID, CLIENT_SECRET, redirect_uris=frozenset({VERIFY_REDIRECT})
    ) as running:
        yield running


@pytest.fixture
async def transport() -> AsyncIterator[httpx.AsyncBaseTransport]:
    transport = httpx.AsyncHTTPTransport()
    try:
        yield transport
    finally:
        await transport.aclose()


def admin_at(
    base_url: str, transport: httpx.AsyncBaseTransport, *, secret: str = CLIENT_SECRET
) -> KeycloakIdentityAdmin:
    return KeycloakIdentityAdmin(
        KeycloakSettings(
            base_url=base_url,
            realm=REALM,
            client_id=CLIENT_ID,
            client_secret=secret,
            verify_redirect_uri=VERIFY_REDIRECT,
            timeout_s=5.0,
        ),
        transport,
    )


@pytest.fixture
def admin(standin: KeycloakStandin, transport: httpx.AsyncBaseTransport) -> KeycloakIdentityAdmin:
    return admin_at(standin.base_url, transport)


def _user_path(user_id: str) -> str:
    return f"/admin/realms/{REALM}/users/{user_id}"


# ---- email change and verification links ----------------------------------------------------


async def test_change_email_sets_it_unverified_then_sends_the_verification_link(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-ada", "ada@example.com")

    await admin.change_email("sub-ada", EmailAddress("ada.new@example.org"))

    [token] = standin.token_calls
    update, verify = (c for c in standin.admin_calls if c.method == "PUT")
    assert (token.method, token.path, token.status) == (
        "POST",
        f"/realms/{REALM}/protocol/openid-connect/token",
        200,
    )
    assert token.body == {"grant_type": "client_credentials"}
    assert token.authorization is not None
    assert token.authorization.startswith("Basic ")
    assert (update.method, update.path, update.status) == ("PUT", _user_path("sub-ada"), 204)
    assert update.body["email"] == "ada.new@example.org"
    assert update.body["emailVerified"] is False
    assert (verify.method, verify.path, verify.status) == (
        "PUT",
        f"{_user_path('sub-ada')}/send-verify-email",
        204,
    )
    assert verify.query == {"client_id": [CLIENT_ID], "redirect_uri": [VERIFY_REDIRECT]}
    assert update.authorization == verify.authorization
    user = standin.user("sub-ada")
    assert user is not None
    assert (user["email"], user["emailVerified"]) == ("ada.new@example.org", False)
    assert standin.outbox == [
        SentEmail("sub-ada", "ada.new@example.org", CLIENT_ID, VERIFY_REDIRECT)
    ]


async def test_change_email_keeps_the_rest_of_the_profile(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-ada", "ada@example.com", first_name="Ada", last_name="Lovelace")

    await admin.change_email("sub-ada", EmailAddress("ada.new@example.org"))

    user = standin.user("sub-ada")
    assert user is not None
    assert (user.get("firstName"), user.get("lastName")) == ("Ada", "Lovelace")


async def test_user_ids_are_sent_as_one_path_segment(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    federated = "f:3f0b8d1a-5c2e-4b7e-9d3a-1c2b3d4e5f60:ada@corp.example"  # an LDAP user id
    standin.add_user(federated, "ada@example.com")

    await admin.change_email(federated, EmailAddress("ada@example.org"))

    assert {c.status for c in standin.admin_calls} <= {200, 204}
    assert [e.user_id for e in standin.outbox] == [federated]


async def test_the_verification_link_can_be_sent_again(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-bob", "bob@example.com", email_verified=False)

    await admin.send_verification_email("sub-bob")
    await admin.send_verification_email("sub-bob")

    assert [(c.method, c.path) for c in standin.admin_calls] == [
        ("PUT", f"{_user_path('sub-bob')}/send-verify-email")
    ] * 2
    assert [e.email for e in standin.outbox] == ["bob@example.com"] * 2


# ---- the service account's token ------------------------------------------------------------


async def test_one_admin_token_serves_many_calls(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-cy", "cy@example.com")

    await admin.send_verification_email("sub-cy")
    await admin.change_email("sub-cy", EmailAddress("cy@example.org"))
    await admin.send_verification_email("sub-cy")

    assert standin.admin_tokens_issued == 1
    assert len(standin.token_calls) == 1
    admin_calls = standin.admin_calls
    assert [c.status for c in admin_calls if c.method == "PUT"] == [204] * 4
    assert {c.status for c in admin_calls} <= {200, 204}
    assert len({c.authorization for c in admin_calls}) == 1


async def test_an_expired_admin_token_is_fetched_again_once_and_the_call_succeeds(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-dee", "dee@example.com")
    await admin.send_verification_email("sub-dee")
    standin.invalidate_admin_tokens()

    await admin.send_verification_email("sub-dee")

    assert standin.admin_tokens_issued == 2
    assert [c.status for c in standin.admin_calls] == [204, 401, 204]
    first, refused, retried = standin.admin_calls
    assert refused.authorization == first.authorization
    assert retried.authorization != first.authorization
    assert len(standin.outbox) == 2


async def test_a_token_the_admin_api_keeps_refusing_is_fetched_again_only_once(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-eve", "eve@example.com")
    standin.accept_admin_tokens = False

    with pytest.raises(DependencyUnavailableError):
        await admin.send_verification_email("sub-eve")

    assert standin.admin_tokens_issued == 2
    assert [c.status for c in standin.admin_calls] == [401, 401]
    assert standin.outbox == []


async def test_a_wrong_client_secret_is_dependency_unavailable(
    standin: KeycloakStandin, transport: httpx.AsyncBaseTransport
) -> None:
    standin.add_user("sub-fay", "fay@example.com")
    wrong = admin_at(standin.base_url, transport, secret="not-the-secret")

    with pytest.raises(DependencyUnavailableError):
        await wrong.change_email("sub-fay", EmailAddress("fay@example.org"))

    assert [c.status for c in standin.token_calls] == [401]
    assert standin.admin_calls == []
    assert standin.admin_tokens_issued == 0
    user = standin.user("sub-fay")
    assert user is not None
    assert user["email"] == "fay@example.com"


async def test_a_call_in_flight_survives_another_call_finishing(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-ida", "ida@example.com")
    standin.link_gitlab(access_token="glpat-slow", refresh_token="glrt-slow")
    standin.hold_broker("gitlab")
    slow = asyncio.create_task(
        admin.brokered_token(access_token=USER_TOKEN, identity_provider="gitlab")
    )
    try:
        assert await asyncio.to_thread(standin.wait_until_held, 1)
        await admin.send_verification_email("sub-ida")  # starts and finishes meanwhile
    finally:
        standin.release()

    token = await slow

    assert token is not None
    assert token.access_token == "glpat-slow"


# ---- refusals and outages -------------------------------------------------------------------


async def test_an_unknown_user_is_dependency_unavailable_and_no_link_is_sent(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    with pytest.raises(DependencyUnavailableError):
        await admin.change_email("sub-nobody", EmailAddress("nobody@example.org"))
    with pytest.raises(DependencyUnavailableError):
        await admin.send_verification_email("sub-nobody")

    assert [(c.path, c.status) for c in standin.admin_calls] == [
        (_user_path("sub-nobody"), 404),
        (f"{_user_path('sub-nobody')}/send-verify-email", 404),
    ]
    assert standin.outbox == []


async def test_an_outage_is_dependency_unavailable_and_recovery_needs_no_new_token(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.add_user("sub-gus", "gus@example.com")
    standin.link_github(access_token="gho_outage")
    standin.outage = True
    with pytest.raises(DependencyUnavailableError):
        await admin.send_verification_email("sub-gus")  # no token yet: the token call fails
    standin.outage = False
    await admin.send_verification_email("sub-gus")
    standin.outage = True

    with pytest.raises(DependencyUnavailableError):
        await admin.change_email("sub-gus", EmailAddress("gus@example.org"))
    with pytest.raises(DependencyUnavailableError):
        await admin.send_verification_email("sub-gus")
    with pytest.raises(DependencyUnavailableError):
        await admin.brokered_token(access_token=USER_TOKEN, identity_provider="github")

    standin.outage = False
    await admin.send_verification_email("sub-gus")
    assert standin.admin_tokens_issued == 1
    assert [c.status for c in standin.calls] == [503, 200, 204, 503, 503, 503, 204]
    assert len(standin.outbox) == 2
    user = standin.user("sub-gus")
    assert user is not None
    assert user["email"] == "gus@example.com"


async def test_a_keycloak_that_is_not_running_is_dependency_unavailable(
    transport: httpx.AsyncBaseTransport,
) -> None:
    with run_keycloak_standin(REALM, CLIENT_ID, CLIENT_SECRET) as stopped:
        base_url = stopped.base_url
    admin = admin_at(base_url, transport)  # nothing listens there any more

    with pytest.raises(DependencyUnavailableError):
        await admin.send_verification_email("sub-hal")
    with pytest.raises(DependencyUnavailableError):
        await admin.brokered_token(access_token=USER_TOKEN, identity_provider="github")


# ---- brokered upstream tokens ---------------------------------------------------------------


async def test_a_github_token_is_read_from_the_form_the_broker_answers(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.link_github(access_token="gho_classic", scope="repo,read:org")

    token = await admin.brokered_token(access_token=USER_TOKEN, identity_provider="github")

    assert token is not None
    assert token.access_token == "gho_classic"
    assert token.refresh_token is None
    assert token.expires_at is None
    assert token.scopes == "repo,read:org"
    [call] = standin.calls
    assert (call.method, call.path) == ("GET", f"/realms/{REALM}/broker/github/token")
    assert call.authorization == f"Bearer {USER_TOKEN}"  # the person's token, not an admin one
    assert standin.admin_tokens_issued == 0


async def test_a_github_app_token_keeps_its_expiry_and_refresh_token(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.link_github(access_token="ghu_app", refresh_token="ghr_app", expires_in=28800, scope="")

    before = datetime.now(UTC)
    token = await admin.brokered_token(access_token=USER_TOKEN, identity_provider="github")
    after = datetime.now(UTC)

    assert token is not None
    assert (token.access_token, token.refresh_token) == ("ghu_app", "ghr_app")
    assert token.expires_at is not None
    assert before + timedelta(seconds=28800) <= token.expires_at <= after + timedelta(seconds=28800)


async def test_a_gitlab_token_is_read_from_the_json_the_broker_answers(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.link_gitlab(access_token="glpat-access", refresh_token="glrt-refresh", expires_in=7200)

    before = datetime.now(UTC)
    token = await admin.brokered_token(access_token=USER_TOKEN, identity_provider="gitlab")
    after = datetime.now(UTC)

    assert token is not None
    assert token.access_token == "glpat-access"
    assert token.refresh_token == "glrt-refresh"
    assert token.scopes == "read_user api"
    assert token.expires_at is not None
    assert before + timedelta(seconds=7200) <= token.expires_at <= after + timedelta(seconds=7200)
    assert "glpat-access" not in repr(token)


async def test_an_alias_the_broker_keeps_no_token_for_is_none(
    standin: KeycloakStandin, admin: KeycloakIdentityAdmin
) -> None:
    standin.link_github(access_token="gho_other")

    token = await admin.brokered_token(access_token=USER_TOKEN, identity_provider="bitbucket")

    assert token is None
    [call] = standin.broker_calls
    assert (call.path, call.status) == (f"/realms/{REALM}/broker/bitbucket/token", 400)
