"""Git provider connections over HTTP against a loopback GitHub: connect, list, disconnect, and
the token lifecycle (one refresh under 100 concurrent requests; reconnect and outage answers)."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dishka import Provider, Scope, provide
from sqlalchemy import text

from adapters.memory import InProcessLocks
from adapters.sqlalchemy import create_database_engine
from application.ports.locks import Locks
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.support.concurrent_app import serve_concurrently
from tests.support.provider_tokens import seed_token, stored_token

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ACCOUNT = "/api/user/git-providers/github/account"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("ada", name="Ada Lovelace", email="ada@example.com")
        fake.add_user("bob")
        yield fake


def with_github(settings: Settings, github: FakeGitHub) -> Settings:
    return settings.with_changes(
        git=settings.git.with_changes(
            github_url=github.base_url,
            github_client_id=github.client_id,
            github_client_secret=github.client_secret,
        )
    )


@pytest.fixture
async def app(postgres_url: str, github: FakeGitHub) -> AsyncIterator[Client]:
    settings = with_github(clustered_settings(postgres_url), github)
    async with serve(settings, BearerSubjectAuth()) as client:
        yield client


def expired_token(user_id: UserId, github: FakeGitHub, login: str = "ada") -> ProviderToken:
    """What Keycloak brokered at sign-in hours ago: an expired access token and a live refresh
    token the fake will redeem once."""
    now = datetime.now(UTC)
    return ProviderToken(
        user_id=user_id,
        host=GitHost(ProviderKind.GITHUB),
        access_token=github.issue_token(login, expires_in=-60),
        refresh_token=github.issue_refresh_token(login),
        expires_at=now - timedelta(minutes=1),
        refresh_expires_at=now + timedelta(days=30),
        scopes="repo",
        updated_at=now - timedelta(hours=8),
    )


def assert_reconnect_problem(body: dict[str, Any]) -> None:
    assert body["code"] == "git-provider-reconnect-required"
    assert body["provider"] == "github"
    assert body["links"] == {"connect": "/api/user/git-providers/github"}


# ---- the token lifecycle ----------------------------------------------------------------------


async def test_a_hundred_concurrent_requests_on_an_expired_token_refresh_it_once(
    postgres_url: str, github: FakeGitHub
) -> None:
    ada = await add_user(postgres_url, "sub-ada")
    before = expired_token(ada.id_, github)
    await seed_token(postgres_url, before)
    github.token_delay_s = 0.2
    # a hundred requests share 20 database connections: on a busy machine give them time
    settings = with_github(clustered_settings(postgres_url), github).with_changes(
        dependency_timeout_s=10.0
    )

    async with serve_concurrently(settings, BearerSubjectAuth()) as app:
        answers = await asyncio.gather(
            *(app.get(ACCOUNT, headers=bearer("sub-ada")) for _ in range(100))
        )
        assert (await app.get(ACCOUNT, headers=bearer("sub-ada"))).status_code == 200

    assert [a.status_code for a in answers] == [200] * 100, answers[0].text
    assert {a.json()["login"] for a in answers} == {"ada"}
    assert github.refresh_calls == 1
    after = await stored_token(postgres_url, ada.id_)
    assert after is not None
    assert after.access_token != before.access_token
    assert after.refresh_token not in (None, before.refresh_token)
    assert after.expires_at is not None
    assert after.expires_at > datetime.now(UTC) + timedelta(hours=7)


class UnsharedLocks(Provider):
    """Every request its own lock: what a missing single flight would look like."""

    locks = provide(InProcessLocks, provides=Locks, scope=Scope.REQUEST, override=True)


async def test_without_a_shared_lock_the_same_requests_refresh_more_than_once(
    postgres_url: str, github: FakeGitHub
) -> None:
    """The negative control of the test above: the requests do overlap, so only the lock
    keeps them to one refresh; without it the single-use refresh token is redeemed twice and
    the losers are told to reconnect."""
    ada = await add_user(postgres_url, "sub-ada")
    await seed_token(postgres_url, expired_token(ada.id_, github))
    github.token_delay_s = 0.2
    settings = with_github(clustered_settings(postgres_url), github)
    async with serve_concurrently(settings, BearerSubjectAuth(), UnsharedLocks()) as app:
        answers = await asyncio.gather(
            *(app.get(ACCOUNT, headers=bearer("sub-ada")) for _ in range(20))
        )
    assert github.refresh_calls > 1
    assert 409 in [a.status_code for a in answers]


async def test_a_refused_refresh_names_the_provider_to_reconnect_and_keeps_the_token(
    app: Client, postgres_url: str, github: FakeGitHub
) -> None:
    ada = await add_user(postgres_url, "sub-ada")
    before = expired_token(ada.id_, github)
    await seed_token(postgres_url, before)
    github.refuse_refresh = True

    answer = await app.get(ACCOUNT, headers=bearer("sub-ada"))

    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert_reconnect_problem(answer.json())
    assert before.refresh_token is not None
    assert before.refresh_token not in answer.text
    assert await stored_token(postgres_url, ada.id_) == before
    listed = (await app.get("/api/user/git-providers", headers=bearer("sub-ada"))).json()
    assert [c["provider"] for c in listed["items"]] == ["github"]


async def test_a_token_the_provider_revoked_answers_the_reconnect_problem(
    app: Client, postgres_url: str, github: FakeGitHub
) -> None:
    ada = await add_user(postgres_url, "sub-ada")
    pat = github.issue_token("ada")
    connected = await app.put(
        "/api/user/git-providers/github", json={"token": pat}, headers=bearer("sub-ada")
    )
    assert connected.status_code == 200, connected.text
    github.revoke(pat)
    answer = await app.get(ACCOUNT, headers=bearer("sub-ada"))
    assert answer.status_code == 409, answer.text
    assert_reconnect_problem(answer.json())
    kept = await stored_token(postgres_url, ada.id_)
    assert kept is not None
    assert kept.access_token == pat


async def test_an_outage_at_the_token_endpoint_is_503_and_deletes_nothing(
    app: Client, postgres_url: str, github: FakeGitHub
) -> None:
    ada = await add_user(postgres_url, "sub-ada")
    before = expired_token(ada.id_, github)
    await seed_token(postgres_url, before)
    github.outage = 500

    answer = await app.get(ACCOUNT, headers=bearer("sub-ada"))

    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "dependency-unavailable"
    assert answer.headers["retry-after"] == "5"
    assert await stored_token(postgres_url, ada.id_) == before
    github.outage = None
    assert (await app.get(ACCOUNT, headers=bearer("sub-ada"))).json()["login"] == "ada"
    assert github.refresh_calls == 1  # the outage answered before the token endpoint


# ---- connect, list, disconnect ----------------------------------------------------------------


async def test_connect_list_and_disconnect_never_show_the_token(
    app: Client, postgres_url: str, github: FakeGitHub
) -> None:
    await add_user(postgres_url, "sub-ada")
    pat = github.issue_token("ada")
    connected = await app.put(
        "/api/user/git-providers/github", json={"token": pat}, headers=bearer("sub-ada")
    )
    assert connected.status_code == 200, connected.text
    body = connected.json()
    assert body["provider"] == "github"
    assert body["baseUrl"] is None
    assert body["expiresAt"] is None
    assert body["refreshable"] is False
    listed = await app.get("/api/user/git-providers", headers=bearer("sub-ada"))
    assert [c["provider"] for c in listed.json()["items"]] == ["github"]
    account = await app.get(ACCOUNT, headers=bearer("sub-ada"))
    assert account.json() == {
        "provider": "github",
        "id": account.json()["id"],
        "login": "ada",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "avatarUrl": account.json()["avatarUrl"],
    }
    for response in (connected, listed, account):
        assert pat not in response.text
    dump = await dump_provider_tokens(postgres_url)
    assert pat not in dump

    gone = await app.delete("/api/user/git-providers/github", headers=bearer("sub-ada"))
    assert gone.status_code == 204
    assert (await app.get("/api/user/git-providers", headers=bearer("sub-ada"))).json() == {
        "items": []
    }
    again = await app.delete("/api/user/git-providers/github", headers=bearer("sub-ada"))
    assert again.status_code == 404
    assert again.json()["code"] == "git-provider-not-connected"
    assert again.json()["provider"] == "github"
    assert again.json()["links"] == {"connect": "/api/user/git-providers/github"}
    not_connected = await app.get(ACCOUNT, headers=bearer("sub-ada"))
    assert not_connected.status_code == 404
    assert not_connected.json()["code"] == "git-provider-not-connected"


async def dump_provider_tokens(url: str) -> str:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT * FROM provider_tokens"))
            return "\n".join(repr(tuple(row)) for row in rows)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/user/git-providers/github", {"token": "ghp_not-a-token"}, "token"),
        ("/api/user/git-providers/github", {"token": ""}, "token"),
        ("/api/user/git-providers/github", {"token": "a b"}, "token"),
        ("/api/user/git-providers/github", {"token": "x" * 5000}, "token"),
        ("/api/user/git-providers/github", {"token": 42}, "token"),
        ("/api/user/git-providers/github", {}, "token"),
        ("/api/user/git-providers/github", {"token": "t", "baseUrl": "ftp://x.example"}, "baseUrl"),
        ("/api/user/git-providers/github", {"token": "t", "extra": 1}, "extra"),
        ("/api/user/git-providers/gitea", {"token": "t"}, "provider"),
        ("/api/user/git-providers/bitbucket", {"token": "ada:"}, "token"),
        (
            "/api/user/git-providers/bitbucket",
            {"token": "ada:pw", "baseUrl": "https://bb.example.com"},
            "baseUrl",
        ),
    ],
)
async def test_bad_connect_input_is_422_naming_the_field_and_stores_nothing(
    app: Client, postgres_url: str, path: str, body: dict[str, Any], field: str
) -> None:
    ada = await add_user(postgres_url, "sub-ada")
    answer = await app.put(path, json=body, headers=bearer("sub-ada"))
    assert answer.status_code == 422, answer.text
    errors = answer.json().get("errors", [])
    named = [e.get("field") for e in errors] + [
        f"`{e['message'].split('`')[1]}`" for e in errors if "`" in e["message"]
    ]
    assert field in named or f"`{field}`" in named, errors
    assert await stored_token(postgres_url, ada.id_) is None


async def test_another_users_connections_are_invisible(
    app: Client, postgres_url: str, github: FakeGitHub
) -> None:
    await add_user(postgres_url, "sub-ada")
    await add_user(postgres_url, "sub-bob")
    pat = github.issue_token("ada")
    await app.put("/api/user/git-providers/github", json={"token": pat}, headers=bearer("sub-ada"))

    bobs = await app.get("/api/user/git-providers", headers=bearer("sub-bob"))
    assert bobs.json() == {"items": []}
    as_bob = await app.get(ACCOUNT, headers=bearer("sub-bob"))
    assert as_bob.status_code == 404
    assert (
        await app.delete("/api/user/git-providers/github", headers=bearer("sub-bob"))
    ).status_code == 404
    mine = await app.get("/api/user/git-providers", headers=bearer("sub-ada"))
    assert [c["provider"] for c in mine.json()["items"]] == ["github"]


async def test_api_keys_need_git_scopes(app: Client, postgres_url: str, github: FakeGitHub) -> None:
    await add_user(postgres_url, "sub-ada")
    created = await app.post(
        "/api/keys", json={"name": "ci", "scopes": ["git:read"]}, headers=bearer("sub-ada")
    )
    assert created.status_code == 201, created.text
    key = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await app.get("/api/user/git-providers", headers=key)).status_code == 200
    refused = await app.put(
        "/api/user/git-providers/github", json={"token": github.issue_token("ada")}, headers=key
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing-scope"


async def test_the_embedded_binding_connects_and_uses_a_token(
    embedded_settings: Settings, github: FakeGitHub, tmp_path: Path
) -> None:
    async with serve(with_github(embedded_settings, github)) as client:
        pat = github.issue_token("ada")
        connected = await client.put("/api/user/git-providers/github", json={"token": pat})
        assert connected.status_code == 200, connected.text
        account = await client.get(ACCOUNT)
        assert account.status_code == 200, account.text
        assert account.json()["login"] == "ada"
