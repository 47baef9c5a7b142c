"""API keys over HTTP: shown once, stored hashed, scoped to one org, revocable."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from dishka import Provider
from sqlalchemy import text

from adapters.sqlalchemy import create_database_engine
from domain.identity.scopes import ALL_SCOPES
from entrypoints.settings import Settings
from tests.conftest import NO_RATE_LIMITS, clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.support.concurrent_app import serve_concurrently
from tests.support.db_dump import dump_database


async def _create_key(client: Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/keys", json={"name": "CI", **body}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created: dict[str, Any] = response.json()
    return created


async def test_embedded_key_acts_with_its_scopes_only(embedded_client: Client) -> None:
    created = await _create_key(embedded_client, {}, scopes=["settings:read"])
    token = created["token"]
    key = created["key"]
    assert token.startswith(key["prefix"] + "_")
    assert key["status"] == "active"
    assert key["scopes"] == ["settings:read"]
    with_key = {"Authorization": f"Bearer {token}"}

    me = await embedded_client.get("/api/user/me", headers=with_key)
    assert me.status_code == 200
    settings = await embedded_client.get("/api/settings", headers=with_key)
    assert settings.status_code == 200
    listed = (await embedded_client.get("/api/keys")).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "token" not in listed[0]
    assert listed[0]["lastUsedAt"] is not None
    org = await embedded_client.post("/api/orgs", json={"name": "Nope"}, headers=with_key)
    assert org.status_code == 403


async def test_a_key_lacking_a_routes_scope_is_refused_and_changes_nothing(
    embedded_client: Client,
) -> None:
    reader = await _create_key(embedded_client, {}, scopes=["conversations:read"])
    with_key = {"Authorization": f"Bearer {reader['token']}"}
    llm = {"llmModel": "openai/gpt-4o", "llmApiKey": "sk-test-not-real"}
    secret = {"name": "NPM_TOKEN", "value": "npm-secret"}

    answers = [
        await embedded_client.get("/api/settings", headers=with_key),
        await embedded_client.post("/api/settings", json=llm, headers=with_key),
        await embedded_client.get("/api/secrets", headers=with_key),
        await embedded_client.post("/api/secrets", json=secret, headers=with_key),
        await embedded_client.post("/api/conversations", json={}, headers=with_key),
    ]

    needed = (
        "settings:read",
        "settings:write",
        "secrets:read",
        "secrets:write",
        "conversations:write",
    )
    for refused, scope in zip(answers, needed, strict=True):
        assert refused.status_code == 403, (refused.request.url, refused.text)
        assert refused.json()["code"] == "missing-scope"
        assert (
            refused.json()["detail"] == f"This endpoint needs a credential with the scope {scope}."
        )
    listed = await embedded_client.get("/api/conversations", headers=with_key)
    assert (listed.status_code, listed.json()["items"]) == (200, [])
    assert (await embedded_client.get("/api/settings")).json()["llmModel"] is None
    assert (await embedded_client.get("/api/secrets")).json()["items"] == []


async def test_a_settings_reader_cannot_write_settings(embedded_client: Client) -> None:
    reader = await _create_key(embedded_client, {}, scopes=["settings:read"])
    with_key = {"Authorization": f"Bearer {reader['token']}"}
    llm = {"llmModel": "openai/gpt-4o", "llmApiKey": "sk-test-not-real"}
    refused = await embedded_client.post("/api/settings", json=llm, headers=with_key)
    assert refused.status_code == 403, refused.text
    assert (await embedded_client.get("/api/settings", headers=with_key)).json()["llmModel"] is None


@pytest.mark.parametrize("scopes", [[], sorted(ALL_SCOPES)], ids=["no-scopes", "all-scopes"])
async def test_an_api_key_cannot_list_make_or_revoke_keys(
    embedded_client: Client, scopes: list[str]
) -> None:
    other = (await _create_key(embedded_client, {}, name="other"))["key"]
    created = await _create_key(embedded_client, {}, scopes=scopes)
    with_key = {"Authorization": f"Bearer {created['token']}"}

    answers = [
        await embedded_client.get("/api/keys", headers=with_key),
        await embedded_client.post("/api/keys", json={"name": "x"}, headers=with_key),
        await embedded_client.delete(f"/api/keys/{other['id']}", headers=with_key),
        await embedded_client.delete(f"/api/keys/{created['key']['id']}", headers=with_key),
    ]

    for refused in answers:
        assert refused.status_code == 403, refused.request.url
        assert refused.json()["code"] == "credential-not-allowed"
    listed = (await embedded_client.get("/api/keys")).json()["items"]
    assert {k["name"]: k["status"] for k in listed} == {"other": "active", "CI": "active"}
    assert (await embedded_client.get("/api/user/me", headers=with_key)).status_code == 200


async def test_a_wrong_key_is_401_even_in_the_embedded_binding(embedded_client: Client) -> None:
    created = await _create_key(embedded_client, {})
    forged = created["token"][:-4] + "AAAA"
    for header in (f"Bearer {forged}", "Bearer nonsense", "Basic Zm9vOmJhcg=="):
        response = await embedded_client.get("/api/user/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json()["code"] == "not-authenticated"


async def test_revoked_key_stops_at_once_and_revoking_is_idempotent(
    embedded_client: Client,
) -> None:
    created = await _create_key(embedded_client, {})
    with_key = {"Authorization": f"Bearer {created['token']}"}
    assert (await embedded_client.get("/api/user/me", headers=with_key)).status_code == 200
    first = await embedded_client.delete(f"/api/keys/{created['key']['id']}")
    again = await embedded_client.delete(f"/api/keys/{created['key']['id']}")
    assert (first.status_code, again.status_code) == (204, 204)
    assert (await embedded_client.get("/api/user/me", headers=with_key)).status_code == 401
    [listed] = (await embedded_client.get("/api/keys")).json()["items"]
    assert listed["status"] == "revoked"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "k", "scopes": ["root"]}, None),
        ({"name": "k", "expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "k", "expiresAt": "not a date"}, None),
        ({"name": "k", "secret": "x"}, None),
    ],
)
async def test_bad_key_requests_are_422_naming_the_field(
    embedded_client: Client, body: dict[str, Any], field: str | None
) -> None:
    response = await embedded_client.post("/api/keys", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"]
    if field is not None:
        assert problem["errors"][0]["field"] == field


async def test_expiring_key_reports_its_expiry(embedded_client: Client) -> None:
    expires = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    created = await _create_key(embedded_client, {}, expiresAt=expires.isoformat())
    assert datetime.fromisoformat(created["key"]["expiresAt"]) == expires


async def test_unknown_org_header_is_404_and_malformed_is_422(embedded_client: Client) -> None:
    unknown = await embedded_client.get(
        "/api/keys", headers={"X-Org-Id": "01a20000-0000-7000-8000-000000000000"}
    )
    malformed = await embedded_client.get("/api/keys", headers={"X-Org-Id": "acme"})
    assert unknown.status_code == 404
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "X-Org-Id"


@pytest.mark.postgres
async def test_keys_are_bound_to_their_org_and_their_owner(postgres_url: str) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        team = (
            await client.post("/api/orgs", json={"name": "Team"}, headers=bearer("alice"))
        ).json()
        in_team = {**bearer("alice"), "X-Org-Id": team["id"]}
        created = await _create_key(client, in_team, scopes=["org:admin", "settings:read"])
        assert created["key"]["orgId"] == team["id"]
        with_key = {"Authorization": f"Bearer {created['token']}"}

        orgs = (await client.get("/api/orgs", headers=with_key)).json()["items"]
        assert [o["id"] for o in orgs] == [team["id"]]
        personal_id = next(
            o["id"]
            for o in (await client.get("/api/orgs", headers=bearer("alice"))).json()["items"]
            if o["personal"]
        )
        assert (await client.get(f"/api/orgs/{personal_id}", headers=with_key)).status_code == 404
        elsewhere = await client.get("/api/settings", headers={**with_key, "X-Org-Id": personal_id})
        assert elsewhere.status_code == 404
        assert (await client.get("/api/settings", headers=with_key)).status_code == 200
        assert (await client.get("/api/keys", headers=bearer("alice"))).json() == {"items": []}
        assert (await client.get("/api/keys", headers=bearer("bob"))).json() == {"items": []}
        stolen = await client.delete(f"/api/keys/{created['key']['id']}", headers=bearer("bob"))
        assert stolen.status_code == 404
        assert (await client.get("/api/user/me", headers=with_key)).status_code == 200

        database = await dump_database(postgres_url)
    secret = created["token"].rsplit("_", 1)[1]
    assert created["token"] not in database
    assert secret not in database


async def thirty_at_once_with_one_key(
    settings: Settings, owner: dict[str, str], *providers: Provider
) -> None:
    """Thirty requests of one key in flight together, each maybe recording the key's last use:
    none fails on another's write, and the use is recorded."""
    async with serve_concurrently(settings, *providers) as client:
        created = await client.post("/api/keys", json={"name": "CI"}, headers=owner)
        assert created.status_code == 201, created.text
        with_key = {"Authorization": f"Bearer {created.json()['token']}"}
        answers = await asyncio.gather(
            *(client.get("/api/user/me", headers=with_key) for _ in range(30))
        )
        listed = (await client.get("/api/keys", headers=owner)).json()["items"]
    assert [a.status_code for a in answers] == [200] * 30, {a.text for a in answers}
    assert [k["lastUsedAt"] is not None for k in listed] == [True]


async def test_many_requests_at_once_with_one_key_pass_on_sqlite(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"MAESTRIST_DATA_DIR": str(tmp_path), "MAESTRIST_ACCESS_LOG": "false", **NO_RATE_LIMITS}
    )
    await thirty_at_once_with_one_key(settings, {})


@pytest.mark.postgres
async def test_many_requests_at_once_with_one_key_pass_on_postgres(postgres_url: str) -> None:
    await add_user(postgres_url, "alice")
    settings = clustered_settings(postgres_url)
    await thirty_at_once_with_one_key(settings, bearer("alice"), BearerSubjectAuth())


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_key_revoked_unannounced_may_read_for_seconds_but_never_changes_anything(
    postgres_url: str,
) -> None:
    """The key is revoked straight in the database, as if its announcement had been lost: a
    read may still rest on what the key proved moments ago (the credential cache), a change
    reads the key again and is refused."""
    await add_user(postgres_url, "alice")
    settings = clustered_settings(postgres_url)
    settings = settings.with_changes(identity=settings.identity.with_changes(credential_cache_s=60))
    async with serve(settings, BearerSubjectAuth()) as client:
        created = await _create_key(
            client, bearer("alice"), scopes=["settings:read", "settings:write"]
        )
        with_key = {"Authorization": f"Bearer {created['token']}"}
        assert (await client.get("/api/settings", headers=with_key)).status_code == 200
        engine = create_database_engine(postgres_url, pool_size=1, connect_timeout_s=5)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"),
                    {"id": UUID(created["key"]["id"])},
                )
        finally:
            await engine.dispose()

        read = await client.get("/api/settings", headers=with_key)
        change = await client.post(
            "/api/settings", json={"llmModel": "openai/gpt-4o"}, headers=with_key
        )

    assert read.status_code == 200  # the cache is in use, so the refusals below are real
    assert change.status_code == 401, change.text
