"""A sign-in through a real OpenID Connect provider accepts the invitations waiting for the
person's address, but only when the provider says it verified that address."""

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from entrypoints.settings import Settings
from tests.integration.http.conftest import Client, serve, sign_in_settings
from tests.support.concurrent_app import serve_concurrently
from tests.support.oidc import OidcProvider, drive_login, run_oidc_provider

pytestmark = [pytest.mark.oidc, pytest.mark.postgres, pytest.mark.redis]

APP = "http://maestrist.localhost"


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(
        redirect_uri=f"{APP}/api/auth/callback", post_logout_redirect_uri=f"{APP}/"
    ) as provider:
        yield provider


@pytest.fixture
async def app(postgres_url: str, oidc: OidcProvider) -> AsyncIterator[Client]:
    key = "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    settings: Settings = sign_in_settings(postgres_url, oidc, APP, key)
    async with serve(settings, base_url=APP) as client:
        yield client


async def _sign_in_as(client: httpx.AsyncClient, login: str) -> None:
    """Sign in as ``login`` alone: the cookie of whoever signed in before is dropped."""
    client.cookies.clear()
    started = await client.get("/api/auth/login", params={"returnTo": "/"})
    assert started.status_code == 302, started.text
    callback = urlsplit(await drive_login(started.headers["location"], login))
    finished = await client.get(f"{callback.path}?{callback.query}")
    assert finished.status_code == 302, finished.text


async def _get(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_verified_sign_in_joins_the_org_with_the_invited_role(app: Client) -> None:
    await _sign_in_as(app, "alice")
    created = await app.post("/api/orgs", json={"name": "Team"})
    assert created.status_code == 201, created.text
    team = created.json()["id"]
    for email, role in (("Dave@Example.com", "admin"), ("unverified@example.com", "member")):
        invited = await app.post(
            f"/api/orgs/{team}/invitations", json={"email": email, "role": role}
        )
        assert invited.status_code == 201, invited.text

    await _sign_in_as(app, "dave")
    daves = await _get(app, "/api/orgs")
    dave = await _get(app, "/api/user/me")
    await _sign_in_as(app, "unverified")
    refused = await app.get("/api/orgs")
    await _sign_in_as(app, "alice")
    members = (await _get(app, f"/api/orgs/{team}/members"))["items"]
    pending = (await _get(app, f"/api/orgs/{team}/invitations"))["items"]
    audit = (await _get(app, f"/api/orgs/{team}/audit"))["items"]

    assert [(o["id"], o["role"]) for o in daves["items"] if not o["personal"]] == [(team, "admin")]
    assert {(m["email"], m["role"]) for m in members} == {
        ("alice@example.com", "owner"),
        ("dave@example.com", "admin"),
    }
    assert refused.status_code == 403
    assert [(i["email"], i["status"]) for i in pending] == [("unverified@example.com", "pending")]
    accepted = [e for e in audit if e["action"] == "invitation.accepted"]
    added = [e for e in audit if e["action"] == "member.added"]
    assert [e["actorId"] for e in accepted] == [dave["id"]]
    assert [e["targetId"] for e in added] == [dave["id"]]


async def test_signing_in_again_accepts_nothing_twice(app: Client) -> None:
    await _sign_in_as(app, "erin")
    await _sign_in_as(app, "alice")
    team = (await app.post("/api/orgs", json={"name": "Team"})).json()["id"]
    invited = await app.post(f"/api/orgs/{team}/invitations", json={"email": "erin@example.com"})
    assert invited.status_code == 201, invited.text

    await _sign_in_as(app, "erin")
    await _sign_in_as(app, "erin")
    await _sign_in_as(app, "alice")

    members = (await _get(app, f"/api/orgs/{team}/members"))["items"]
    audit = (await _get(app, f"/api/orgs/{team}/audit"))["items"]
    assert sorted(m["email"] for m in members) == ["alice@example.com", "erin@example.com"]
    assert [e["action"] for e in audit].count("invitation.accepted") == 1
    assert await _get(app, f"/api/orgs/{team}/invitations") == {"items": []}


async def test_sign_ins_finishing_at_once_accept_the_invitation_once(
    postgres_url: str, oidc: OidcProvider
) -> None:
    """Eight tabs of one person finish their sign-ins together: every one signs in, and the
    invitation makes one membership and one acceptance."""
    key = "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    settings = sign_in_settings(postgres_url, oidc, APP, key)
    async with serve_concurrently(settings, base_url=APP) as app:
        await _sign_in_as(app, "frank")
        await _sign_in_as(app, "alice")
        team = (await app.post("/api/orgs", json={"name": "Team"})).json()["id"]
        invited = await app.post(
            f"/api/orgs/{team}/invitations", json={"email": "frank@example.com"}
        )
        assert invited.status_code == 201, invited.text
        alice = app.cookies["maestrist_session"]

        tabs: list[tuple[str, str]] = []
        for _ in range(8):
            app.cookies.clear()
            started = await app.get("/api/auth/login", params={"returnTo": "/"})
            assert started.status_code == 302, started.text
            callback = urlsplit(await drive_login(started.headers["location"], "frank"))
            tabs.append((f"{callback.path}?{callback.query}", started.cookies["maestrist_sign_in"]))
        app.cookies.clear()
        finished = await asyncio.gather(
            *(app.get(link, headers={"Cookie": f"maestrist_sign_in={c}"}) for link, c in tabs)
        )

        app.cookies.clear()
        app.cookies.set("maestrist_session", alice)
        members = (await _get(app, f"/api/orgs/{team}/members"))["items"]
        audit = (await _get(app, f"/api/orgs/{team}/audit"))["items"]
    assert [f.status_code for f in finished] == [302] * 8, [f.text for f in finished]
    assert sorted(m["email"] for m in members) == ["alice@example.com", "frank@example.com"]
    assert [e["action"] for e in audit].count("invitation.accepted") == 1
    assert [e["action"] for e in audit].count("member.added") == 1
