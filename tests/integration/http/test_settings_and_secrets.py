"""Settings and custom secrets over HTTP, in the embedded and clustered bindings.

Partial updates keep what they do not name, every bad field is a 422 naming it in its wire
name, the LLM API key and secret values are write-only (no response ever carries them), org
defaults are read by members and written by owners and admins, another tenant's org is 404,
and nothing sealed is stored in plaintext.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import Response

from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.support.db_dump import dump_database

Headers = dict[str, str]

LLM_KEY = "sk-live-0123456789abcdef-LLMKEY"
ORG_KEY = "sk-org-fedcba9876543210-ORGKEY"
MCP_KEY = "mcp-api-key-5f4e3d2c1b"
MCP_ENV = "ghp_mcpenvvalue42"
SECRET = "s3cr3t-value-that-must-never-leak"
DESCRIPTION = "deploy key for the staging cluster"


@pytest.fixture(params=["embedded", pytest.param("clustered", marks=pytest.mark.postgres)])
def binding(request: pytest.FixtureRequest, embedded_settings: Settings) -> tuple[Settings, bool]:
    """The settings to serve, and whether requests carry the test bearer credential."""
    if request.param == "embedded":
        return embedded_settings, False
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(add_user(url, "ada"))
    return clustered_settings(url), True


@pytest.fixture
async def app(binding: tuple[Settings, bool]) -> AsyncIterator[tuple[Client, Headers]]:
    """A served app and the headers of its one signed-in person."""
    settings_, needs_bearer = binding
    async with serve(settings_, *([BearerSubjectAuth()] if needs_bearer else [])) as client:
        yield client, bearer("ada") if needs_bearer else {}


def _ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _never_leaks(*responses: Response) -> None:
    for response in responses:
        for secret in (LLM_KEY, ORG_KEY, MCP_KEY, MCP_ENV, SECRET):
            assert secret not in response.text


# ---- user settings --------------------------------------------------------------------------


async def test_settings_start_from_defaults(app: tuple[Client, Headers]) -> None:
    client, headers = app
    settings = _ok(await client.get("/api/settings", headers=headers))
    assert settings["agent"] == "CodeActAgent"
    assert settings["language"] == "en"
    assert settings["llmApiKeySet"] is False
    assert set(settings["sources"].values()) == {"default"}
    assert all(v in (None, False) for v in settings["own"].values())


async def test_a_partial_update_keeps_every_other_field(app: tuple[Client, Headers]) -> None:
    client, headers = app
    first = {
        "llmModel": "anthropic/claude-sonnet-4",
        "llmApiKey": LLM_KEY,
        "llmBaseUrl": "https://llm.example.com/v1",
        "maxIterations": 80,
        "confirmationMode": True,
        "language": "PT-br",
        "maxBudgetPerTask": 3.5,
        "analyticsConsent": True,
        "gitAuthorName": "Ada Lovelace",
        "gitAuthorEmail": "ada@example.com",
        "agent": "CodeActAgent",
    }
    written = await client.post("/api/settings", json=first, headers=headers)
    body = _ok(written)
    assert body["language"] == "pt-BR"
    assert body["sources"]["llmModel"] == "user"
    assert body["own"]["maxIterations"] == 80

    changed = await client.post(
        "/api/settings", json={"maxIterations": 120, "llmModel": None}, headers=headers
    )
    after = _ok(changed)
    assert after["maxIterations"] == 120
    assert after["llmModel"] is None
    assert after["sources"]["llmModel"] == "default"
    for field in ("llmBaseUrl", "confirmationMode", "maxBudgetPerTask", "gitAuthorEmail"):
        assert after[field] == body[field]
        assert after["sources"][field] == "user"
    assert after["llmApiKeySet"] is True
    read = await client.get("/api/settings", headers=headers)
    assert _ok(read) == after
    _never_leaks(written, changed, read)


async def test_the_llm_api_key_is_write_only_and_null_clears_it(
    app: tuple[Client, Headers],
) -> None:
    client, headers = app
    responses = [
        await client.post("/api/settings", json={"llmApiKey": LLM_KEY}, headers=headers),
        await client.get("/api/settings", headers=headers),
        await client.get("/schema/openapi.json"),
    ]
    assert responses[1].json()["llmApiKeySet"] is True
    assert "llmApiKey" not in responses[1].json()
    cleared = await client.post("/api/settings", json={"llmApiKey": None}, headers=headers)
    assert _ok(cleared)["llmApiKeySet"] is False
    assert _ok(cleared)["own"]["llmApiKeySet"] is False
    _never_leaks(*responses, cleared)


BAD_FIELDS: list[tuple[str, object]] = [
    ("llmModel", "has spaces in it"),
    ("llmModel", 42),
    ("llmApiKey", ""),
    ("llmApiKey", "two words"),
    ("llmBaseUrl", "ftp://llm.example.com"),
    ("llmBaseUrl", "https://user:pw@llm.example.com"),
    ("agent", "9lives"),
    ("maxIterations", 0),
    ("maxIterations", 10_001),
    ("maxIterations", "ten"),
    ("maxIterations", 1.5),
    ("confirmationMode", "yes"),
    ("language", "english"),
    ("maxBudgetPerTask", -1),
    ("maxBudgetPerTask", 1e9),
    ("analyticsConsent", "maybe"),
    ("gitAuthorName", "Ada <ada@example.com>"),
    ("gitAuthorEmail", "not-an-email"),
    ("mcpConfig", []),
    ("mcpConfig", {"servers": []}),
    ("mcpConfig", {"stdio_servers": [{"name": "x"}]}),
    ("mcpConfig", {"sse_servers": ["not a url"]}),
]


async def test_each_bad_field_is_422_naming_it(app: tuple[Client, Headers]) -> None:
    client, headers = app
    before = _ok(await client.post("/api/settings", json={"language": "de"}, headers=headers))
    for field, value in BAD_FIELDS:
        response = await client.post(
            "/api/settings", json={"language": "fr", field: value}, headers=headers
        )
        assert response.status_code == 422, (field, value, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == [field], (field, value)
    assert _ok(await client.get("/api/settings", headers=headers)) == before


async def test_mcp_secrets_are_masked_and_a_sent_back_mask_keeps_them(
    app: tuple[Client, Headers],
) -> None:
    client, headers = app
    mcp = {
        "sse_servers": [{"url": "https://mcp.example.com/sse", "api_key": MCP_KEY}],
        "stdio_servers": [{"name": "github", "command": "npx", "env": {"TOKEN": MCP_ENV}}],
    }
    written = await client.post("/api/settings", json={"mcpConfig": mcp}, headers=headers)
    shown = _ok(written)["mcpConfig"]
    assert shown["sse_servers"] == [{"url": "https://mcp.example.com/sse", "api_key": "********"}]
    shown["stdio_servers"][0]["args"] = ["-y", "server-github"]
    again = await client.post("/api/settings", json={"mcpConfig": shown}, headers=headers)
    assert _ok(again)["mcpConfig"]["stdio_servers"][0]["args"] == ["-y", "server-github"]
    _never_leaks(written, again)
    moved = {"shttp_servers": [{"url": "https://elsewhere.example", "api_key": "********"}]}
    refused = await client.post("/api/settings", json={"mcpConfig": moved}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "mcpConfig"


async def test_api_keys_need_the_settings_and_secrets_scopes(
    embedded_client: Client,
) -> None:
    created = await embedded_client.post(
        "/api/keys", json={"name": "ro", "scopes": ["settings:read"]}
    )
    key = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await embedded_client.get("/api/settings", headers=key)).status_code == 200
    for method, path in (
        ("POST", "/api/settings"),
        ("GET", "/api/secrets"),
        ("POST", "/api/secrets"),
        ("DELETE", "/api/secrets/X"),
    ):
        response = await embedded_client.request(method, path, json={}, headers=key)
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "missing-scope"


# ---- custom secrets -------------------------------------------------------------------------


async def test_secrets_crud_never_shows_a_value(app: tuple[Client, Headers]) -> None:
    client, headers = app
    created = await client.post(
        "/api/secrets",
        json={"name": "DEPLOY_KEY", "value": SECRET, "description": DESCRIPTION},
        headers=headers,
    )
    body = _ok(created, 201)
    assert created.headers["location"] == "/api/secrets/DEPLOY_KEY"
    assert body["name"] == "DEPLOY_KEY"
    assert body["description"] == DESCRIPTION
    assert set(body) == {"name", "description", "createdAt", "updatedAt"}

    duplicate = await client.post(
        "/api/secrets", json={"name": "DEPLOY_KEY", "value": "other"}, headers=headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "secret-name-taken"
    other_case = await client.post(
        "/api/secrets", json={"name": "deploy_key", "value": "x"}, headers=headers
    )
    _ok(other_case, 201)

    updated = await client.put(
        "/api/secrets/DEPLOY_KEY", json={"value": SECRET + "-2"}, headers=headers
    )
    assert _ok(updated)["description"] == DESCRIPTION
    assert _ok(updated)["updatedAt"] >= body["updatedAt"]
    described = await client.put(
        "/api/secrets/DEPLOY_KEY", json={"description": None}, headers=headers
    )
    assert _ok(described)["description"] is None

    listed = await client.get("/api/secrets", headers=headers)
    assert [s["name"] for s in _ok(listed)["items"]] == ["DEPLOY_KEY", "deploy_key"]

    deleted = await client.delete("/api/secrets/DEPLOY_KEY", headers=headers)
    assert deleted.status_code == 204
    again = await client.delete("/api/secrets/DEPLOY_KEY", headers=headers)
    assert again.status_code == 404
    assert again.json()["code"] == "secret-not-found"
    missing = await client.put("/api/secrets/NOPE", json={"value": "x"}, headers=headers)
    assert missing.status_code == 404
    _never_leaks(created, duplicate, updated, described, listed, deleted)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "1ABC", "value": "x"}, "name"),
        ({"name": "A-B", "value": "x"}, "name"),
        ({"name": "PATH", "value": "x"}, "name"),
        ({"name": "MAESTRIST_TOKEN", "value": "x"}, "name"),
        ({"name": "X" * 65, "value": "x"}, "name"),
        ({"name": "OK", "value": ""}, "value"),
        ({"name": "OK", "value": "a\u0000b"}, "value"),
        ({"name": "OK", "value": "x", "description": "y" * 501}, "description"),
        ({"name": 5, "value": "x"}, "name"),
    ],
)
async def test_bad_secrets_are_422_naming_the_field(
    embedded_client: Client, body: dict[str, Any], field: str
) -> None:
    response = await embedded_client.post("/api/secrets", json=body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await embedded_client.get("/api/secrets")).json()["items"] == []


async def test_missing_and_unknown_fields_are_422_naming_them(embedded_client: Client) -> None:
    for path, body, field in (
        ("/api/secrets", {"name": "OK"}, "value"),
        ("/api/secrets", {"name": "OK", "value": "x", "secret": "y"}, "secret"),
        ("/api/settings", {"llmApiKeySet": True}, "llmApiKeySet"),
    ):
        response = await embedded_client.post(path, json=body)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]


# ---- organizations and tenants (clustered) ----------------------------------------------------


@pytest.mark.postgres
async def test_org_defaults_members_read_managers_write_strangers_404(
    postgres_url: str,
) -> None:
    ada, bob, _ = [await add_user(postgres_url, s) for s in ("ada", "bob", "eve")]
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        org = _ok(await client.post("/api/orgs", json={"name": "Acme"}, headers=bearer("ada")), 201)
        path = f"/api/orgs/{org['id']}/settings"
        added = await client.post(
            f"/api/orgs/{org['id']}/members", json={"email": bob.email.value}, headers=bearer("ada")
        )
        _ok(added, 201)
        assert ada.id_ != bob.id_

        defaults = {
            "llmModel": "litellm_proxy/claude",
            "llmApiKey": ORG_KEY,
            "llmBaseUrl": "https://proxy.acme.example",
            "maxIterations": 60,
        }
        written = await client.post(path, json=defaults, headers=bearer("ada"))
        assert _ok(written)["llmApiKeySet"] is True
        assert _ok(written)["orgId"] == org["id"]

        in_acme = {**bearer("bob"), "X-Org-Id": org["id"]}
        seen = await client.get("/api/settings", headers=in_acme)
        effective = _ok(seen)
        assert effective["orgId"] == org["id"]
        assert effective["maxIterations"] == 60
        assert effective["sources"]["maxIterations"] == "org"
        assert effective["sources"]["llmApiKey"] == "org"
        assert effective["llmApiKeySet"] is True
        personal = _ok(await client.get("/api/settings", headers=bearer("bob")))
        assert personal["sources"]["maxIterations"] == "default"

        own_url = await client.post(
            "/api/settings", json={"llmBaseUrl": "https://bob.example"}, headers=in_acme
        )
        assert _ok(own_url)["llmApiKeySet"] is False, "the org key never follows bob's URL"
        assert _ok(own_url)["sources"]["llmApiKey"] == "user"

        member_read = await client.get(path, headers=bearer("bob"))
        assert _ok(member_read)["maxIterations"] == 60
        member_write = await client.post(path, json={"maxIterations": 1}, headers=bearer("bob"))
        assert member_write.status_code == 403
        assert member_write.json()["code"] == "not-an-org-admin"

        for method in ("GET", "POST"):
            stranger = await client.request(method, path, json={}, headers=bearer("eve"))
            assert stranger.status_code == 404
            assert stranger.json()["code"] == "org-not-found"
        foreign = await client.get(
            "/api/settings", headers={**bearer("eve"), "X-Org-Id": org["id"]}
        )
        assert foreign.status_code == 404
        bad = await client.post(path, json={"language": "klingon!"}, headers=bearer("ada"))
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "language"
        _never_leaks(written, seen, own_url, member_read, member_write)


@pytest.mark.postgres
async def test_another_persons_secrets_are_invisible_and_untouchable(postgres_url: str) -> None:
    for subject in ("ada", "bob"):
        await add_user(postgres_url, subject)
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        _ok(
            await client.post(
                "/api/secrets", json={"name": "TOKEN", "value": SECRET}, headers=bearer("ada")
            ),
            201,
        )
        assert _ok(await client.get("/api/secrets", headers=bearer("bob")))["items"] == []
        put = await client.put("/api/secrets/TOKEN", json={"value": "x"}, headers=bearer("bob"))
        delete = await client.delete("/api/secrets/TOKEN", headers=bearer("bob"))
        assert (put.status_code, delete.status_code) == (404, 404)
        _ok(
            await client.post(
                "/api/secrets", json={"name": "TOKEN", "value": "bobs"}, headers=bearer("bob")
            ),
            201,
        )
        assert [
            s["name"] for s in _ok(await client.get("/api/secrets", headers=bearer("ada")))["items"]
        ] == ["TOKEN"]


async def test_nothing_sealed_is_stored_in_plaintext(
    binding: tuple[Settings, bool], app: tuple[Client, Headers]
) -> None:
    client, headers = app
    org = _ok(await client.post("/api/orgs", json={"name": "Acme"}, headers=headers), 201)
    mcp = {
        "shttp_servers": [{"url": "https://mcp.example.com", "api_key": MCP_KEY}],
        "stdio_servers": [{"name": "gh", "command": "npx", "env": {"TOKEN": MCP_ENV}}],
    }
    _ok(
        await client.post(
            "/api/settings", json={"llmApiKey": LLM_KEY, "mcpConfig": mcp}, headers=headers
        )
    )
    _ok(
        await client.post(
            f"/api/orgs/{org['id']}/settings",
            json={"llmApiKey": ORG_KEY, "mcpConfig": mcp},
            headers=headers,
        )
    )
    _ok(
        await client.post(
            "/api/secrets",
            json={"name": "DEPLOY", "value": SECRET, "description": DESCRIPTION},
            headers=headers,
        ),
        201,
    )
    dump = await dump_database(binding[0].effective_database_url)
    assert "DEPLOY" in dump, "the dump does cover the secrets table"
    for plaintext in (LLM_KEY, ORG_KEY, MCP_KEY, MCP_ENV, SECRET, DESCRIPTION):
        assert plaintext not in dump
