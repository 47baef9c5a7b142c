"""Rotating the encryption keys end to end: sign in under k1, reseal under k2, drop k1."""

import asyncio
import base64
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from adapters.sqlalchemy import create_database_engine
from entrypoints.ioc import rotate_encryption_keys
from entrypoints.settings import Settings
from tests.integration.http.conftest import Client, serve, sign_in_settings
from tests.integration.http.test_sign_in import (
    CountedRefreshes,
    MovableClock,
    sign_in,
)
from tests.support.oidc import OidcProvider, run_oidc_provider

pytestmark = [pytest.mark.oidc, pytest.mark.postgres, pytest.mark.redis]

APP = "http://maestrist.localhost"


def _key(key_id: str) -> str:
    return f"{key_id}:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


ACCESS_TTL_S = 60
"""Long enough that a busy machine never lets the token run out in real time between sign-in
and the first request: only the test's clock moves it past expiry."""
PAST_EXPIRY = timedelta(seconds=ACCESS_TTL_S + 1)


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(
        f"{APP}/api/auth/callback", f"{APP}/", access_ttl_s=ACCESS_TTL_S
    ) as provider:
        yield provider


def _settings(url: str, oidc: OidcProvider, keys: str) -> Settings:
    return sign_in_settings(url, oidc, APP, keys, MAESTRIST_TOKEN_REFRESH_MARGIN="1")


SEALED_COLUMNS = {
    "sessions": "access_token, refresh_token, id_token",
    "user_settings": "llm_api_key, mcp_config",
    "org_settings": "llm_api_key, mcp_config",
    "custom_secrets": "value, description",
}


async def _key_ids(url: str) -> set[str]:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    found: set[str] = set()
    try:
        async with engine.connect() as connection:
            for table, columns in SEALED_COLUMNS.items():
                rows = await connection.execute(text(f"SELECT {columns} FROM {table}"))
                found |= {value.split(".")[1] for row in rows for value in row if value}
    finally:
        await engine.dispose()
    return found


MCP = {"stdio_servers": [{"name": "gh", "command": "npx", "env": {"TOKEN": "ghp_rotated"}}]}


async def _store_settings_and_a_secret(client: Client) -> str:
    """The LLM key and MCP configuration of the person and of their org, and a secret, all
    sealed; the org's id."""
    sealed = {"llmApiKey": "sk-rotated", "mcpConfig": MCP}
    mine = await client.post("/api/settings", json=sealed)
    assert mine.status_code == 200, mine.text
    org_id = str(mine.json()["orgId"])
    org = await client.post(f"/api/orgs/{org_id}/settings", json=sealed)
    assert org.status_code == 200, org.text
    secret = {"name": "DEPLOY", "value": "v", "description": "d"}
    assert (await client.post("/api/secrets", json=secret)).status_code == 201
    return org_id


def test_sessions_survive_a_key_rotation(postgres_url: str, oidc: OidcProvider) -> None:
    k1, k2 = _key("k1"), _key("k2")

    async def signed_in_under_k1() -> tuple[str, str]:
        async with serve(_settings(postgres_url, oidc, k1), base_url=APP) as client:
            await sign_in(client, "rita")
            org_id = await _store_settings_and_a_secret(client)
            return str(client.cookies["maestrist_session"]), org_id

    cookie, org_id = asyncio.run(signed_in_under_k1())
    assert asyncio.run(_key_ids(postgres_url)) == {"k1"}

    both = _settings(postgres_url, oidc, f"{k2},{k1}")
    assert rotate_encryption_keys(both) == 4  # the session, both settings rows, the secret
    assert rotate_encryption_keys(both) == 0
    assert asyncio.run(_key_ids(postgres_url)) == {"k2"}

    async def still_signed_in_with_k2_only() -> list[int]:
        counted, time = CountedRefreshes(), MovableClock()
        k2_only = _settings(postgres_url, oidc, k2)
        async with serve(k2_only, counted, time, base_url=APP) as client:
            client.cookies.set("maestrist_session", cookie)
            first = (await client.get("/api/user/me")).status_code
            time.clock.advance(
                PAST_EXPIRY
            )  # the access token expires; the refresh needs the tokens
            second = (await client.get("/api/user/me")).status_code
            assert counted.seen.refreshes == 1
            mine = await client.get("/api/settings")
            org = await client.get(f"/api/orgs/{org_id}/settings")
            secrets_ = await client.get("/api/secrets")
            assert mine.json()["own"]["llmApiKeySet"] is True
            assert org.json()["llmApiKeySet"] is True
            assert [s["name"] for s in secrets_.json()["items"]] == ["DEPLOY"]
            return [first, second, mine.status_code, org.status_code, secrets_.status_code]

    assert asyncio.run(still_signed_in_with_k2_only()) == [200] * 5


def test_without_the_old_key_sealed_tokens_do_not_open(
    postgres_url: str, oidc: OidcProvider
) -> None:
    async def sign_in_and_switch() -> int:
        async with serve(_settings(postgres_url, oidc, _key("k1")), base_url=APP) as client:
            await sign_in(client, "sam")
            cookie = client.cookies["maestrist_session"]
        async with serve(_settings(postgres_url, oidc, _key("k2")), base_url=APP) as client:
            client.cookies.set("maestrist_session", cookie)
            return (await client.get("/api/user/me")).status_code

    assert asyncio.run(sign_in_and_switch()) == 503
