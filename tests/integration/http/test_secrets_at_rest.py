"""Issue 4's acceptance scenario: a signed-in user stores an LLM key, secrets and git provider
tokens, browses repositories, lives through a provider token expiry and an encryption key
rotation without noticing, and nothing they entrusted to us is ever in the database in
plaintext."""

import asyncio
import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher, JwsTokenSigner
from adapters.sqlalchemy import SqlaUnitOfWork, create_database_engine
from adapters.sqlalchemy.provider_token_store import SqlaProviderTokenStore
from adapters.sqlalchemy.secret_store import SqlaSecretStore
from adapters.sqlalchemy.settings_store import SqlaSettingsStore
from adapters.system.clock import SystemClock
from application.git.runtime_credentials import RuntimeCredentialTtl, RuntimeGitCredentials
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from entrypoints.ioc import rotate_encryption_keys
from entrypoints.settings import Settings, parse_encryption_keys
from tests.backends import TEST_CIPHER
from tests.conftest import TEST_SIGNING_KEYS
from tests.fakes.git_hosts import FakeGitHub, FakeGitLab, run_fake_github, run_fake_gitlab
from tests.integration.http.conftest import Client, serve, sign_in_settings
from tests.integration.http.test_sign_in import sign_in
from tests.support.db_dump import dump_database
from tests.support.oidc import OidcProvider, run_oidc_provider

pytestmark = [pytest.mark.oidc, pytest.mark.postgres, pytest.mark.redis]

APP = "http://maestrist.localhost"
K1 = "k1:" + base64.urlsafe_b64encode(b"\x11" * 32).rstrip(b"=").decode()
K2 = "k2:" + base64.urlsafe_b64encode(b"\x22" * 32).rstrip(b"=").decode()
LLM_KEY = "sk-user-llm-key-0f9e8d7c6b5a"
ORG_LLM_KEY = "sk-org-llm-key-1a2b3c4d5e6f"
MCP_SECRET = "mcp-env-secret-77aa88bb"
SECRET_VALUE = "deploy-secret-value-5c5c5c"
SECRET_DESCRIPTION = "the staging deploy token"


@dataclass
class Plaintexts:
    """Everything the scenario entrusted to the server, to look for in the database."""

    values: set[str] = field(default_factory=set)

    def add(self, *values: str) -> None:
        self.values.update(value for value in values if value)


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(f"{APP}/api/auth/callback", f"{APP}/") as provider:
        yield provider


def settings_for(
    url: str, oidc: OidcProvider, keys: str, github: FakeGitHub, gitlab: FakeGitLab
) -> Settings:
    return sign_in_settings(
        url,
        oidc,
        APP,
        keys,
        MAESTRIST_GITHUB_URL=github.base_url,
        MAESTRIST_GITLAB_URL=gitlab.base_url,
        MAESTRIST_GITLAB_CLIENT_ID="fake-client-id",
        MAESTRIST_GITLAB_CLIENT_SECRET="fake-client-secret",
    )


async def store_brokered_gitlab_token(
    url: str, keys: str, user_id: UserId, access: str, refresh: str
) -> None:
    """A GitLab token as Keycloak's broker hands it over at sign-in: about to expire, with a
    refresh token (Keycloak itself cannot run here; its broker is tested on its own)."""
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            store = SqlaProviderTokenStore(session, AesGcmCipher(parse_encryption_keys(keys)))
            await store.put(
                ProviderToken(
                    user_id=user_id,
                    host=GitHost(ProviderKind.GITLAB),
                    access_token=access,
                    refresh_token=refresh,
                    expires_at=datetime.now(UTC) + timedelta(seconds=30),
                    scopes="api read_user",
                    updated_at=datetime.now(UTC),
                )
            )
            await SqlaUnitOfWork(session, TEST_CIPHER).commit()
    finally:
        await engine.dispose()


def runtime_credential(user_id: UserId, provider: ProviderKind) -> str:
    signer = JwsTokenSigner(parse_encryption_keys(TEST_SIGNING_KEYS))
    ttl = RuntimeCredentialTtl(timedelta(minutes=5))
    return RuntimeGitCredentials(signer, SystemClock(), ttl).issue(user_id, provider).token


async def entrust_everything(client: Client, github: FakeGitHub, seen: Plaintexts) -> None:
    me = (await client.get("/api/user/me")).json()
    orgs = (await client.get("/api/orgs")).json()
    personal = next(org for org in orgs["items"] if org.get("personal"))  # the user's own
    saved = await client.post(
        "/api/settings",
        json={
            "llmModel": "openai/gpt-4o",
            "llmApiKey": LLM_KEY,
            "gitAuthorEmail": me["email"],
            "mcpConfig": {
                "stdio_servers": [
                    {"name": "tools", "command": "uvx", "env": {"API_TOKEN": MCP_SECRET}}
                ]
            },
        },
    )
    assert saved.status_code == 200, saved.text
    org_saved = await client.post(
        f"/api/orgs/{personal['id']}/settings", json={"llmApiKey": ORG_LLM_KEY}
    )
    assert org_saved.status_code == 200, org_saved.text
    created = await client.post(
        "/api/secrets",
        json={"name": "DEPLOY_TOKEN", "value": SECRET_VALUE, "description": SECRET_DESCRIPTION},
    )
    assert created.status_code == 201, created.text
    github_token = github.issue_token("rita")
    connected = await client.put("/api/user/git-providers/github", json={"token": github_token})
    assert connected.status_code == 200, connected.text
    api_key = await client.post("/api/keys", json={"name": "ci", "scopes": ["git:read"]})
    assert api_key.status_code == 201, api_key.text
    seen.add(LLM_KEY, ORG_LLM_KEY, MCP_SECRET, SECRET_VALUE, SECRET_DESCRIPTION, github_token)
    seen.add(api_key.json()["token"], str(client.cookies["maestrist_session"]))
    for response in (saved, org_saved, created, connected):
        for value in (LLM_KEY, ORG_LLM_KEY, MCP_SECRET, SECRET_VALUE, github_token):
            assert value not in response.text


def assert_nothing_in_plaintext(dump: str, seen: Plaintexts) -> None:
    leaked = sorted(value for value in seen.values if value in dump)
    assert not leaked, f"found in the database: {leaked}"
    for spec in (K1, K2, TEST_SIGNING_KEYS):
        _, _, encoded = spec.partition(":")
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        assert encoded not in dump
        assert raw.hex() not in dump


def key_ids_in(dump: str) -> set[str]:
    return set(re.findall(r"v1\.([A-Za-z0-9_-]+)\.", dump))


def test_entrusted_values_are_sealed_and_survive_token_expiry_and_key_rotation(
    postgres_url: str, oidc: OidcProvider
) -> None:
    seen = Plaintexts()
    with run_fake_github() as github, run_fake_gitlab() as gitlab:
        for fake in (github, gitlab):
            fake.add_user("rita", name="Rita", email="rita@example.com")
        github.add_repo("rita/app", branches=["main", "dev"])
        gitlab.add_repo("rita/service", branches=["main"])
        gitlab_access = gitlab.issue_token("rita", expires_in=30)
        gitlab_refresh = gitlab.issue_refresh_token("rita")
        seen.add(gitlab_access, gitlab_refresh)

        async def under_k1() -> tuple[str, UserId]:
            async with serve(
                settings_for(postgres_url, oidc, K1, github, gitlab), base_url=APP
            ) as client:
                await sign_in(client, "rita")
                user_id = UserId(UUID((await client.get("/api/user/me")).json()["id"]))
                await entrust_everything(client, github, seen)
                await store_brokered_gitlab_token(
                    postgres_url, K1, user_id, gitlab_access, gitlab_refresh
                )
                # The GitLab token expires within the margin: browsing refreshes it, once.
                for provider in ("github", "gitlab"):
                    repos = await client.get(
                        "/api/user/repositories", params={"provider": provider}
                    )
                    assert repos.status_code == 200, repos.text
                assert gitlab.refresh_calls == 1
                return str(client.cookies["maestrist_session"]), user_id

        cookie, user_id = asyncio.run(under_k1())
        seen.add(*gitlab.issued_tokens("rita"))

        dump = asyncio.run(dump_database(postgres_url))
        assert_nothing_in_plaintext(dump, seen)
        assert key_ids_in(dump) == {"k1"}

        both = settings_for(postgres_url, oidc, f"{K2},{K1}", github, gitlab)
        assert rotate_encryption_keys(both) > 0
        assert rotate_encryption_keys(both) == 0
        dump = asyncio.run(dump_database(postgres_url))
        assert key_ids_in(dump) == {"k2"}
        assert_nothing_in_plaintext(dump, seen)

        async def under_k2_only() -> None:
            async with serve(
                settings_for(postgres_url, oidc, K2, github, gitlab), base_url=APP
            ) as client:
                client.cookies.set("maestrist_session", cookie)
                assert (await client.get("/api/user/me")).status_code == 200
                current = (await client.get("/api/settings")).json()
                assert current["own"]["llmApiKeySet"] is True
                secrets = (await client.get("/api/secrets")).json()
                assert [s["name"] for s in secrets["items"]] == ["DEPLOY_TOKEN"]
                for provider in ("github", "gitlab"):
                    repos = await client.get(
                        "/api/user/repositories", params={"provider": provider}
                    )
                    assert repos.status_code == 200, repos.text
                exchanged = await client.get(
                    "/api/runtime/git-token",
                    headers={"X-Access-Token": runtime_credential(user_id, ProviderKind.GITLAB)},
                )
                assert exchanged.status_code == 200, exchanged.text
                assert exchanged.json()["token"] in gitlab.issued_tokens("rita")

        asyncio.run(under_k2_only())
        assert gitlab.refresh_calls == 1
        assert asyncio.run(opened_with(postgres_url, K2, user_id)) == (
            LLM_KEY,
            [(SECRET_VALUE, SECRET_DESCRIPTION)],
        )


async def opened_with(url: str, keys: str, user_id: UserId) -> tuple[str | None, list[object]]:
    """The user's LLM key and secrets, opened by the stores with ``keys`` alone."""
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    cipher = AesGcmCipher(parse_encryption_keys(keys))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            own = await SqlaSettingsStore(session, cipher).get_user(user_id)
            secrets = await SqlaSecretStore(session, cipher).list_for(user_id)
    finally:
        await engine.dispose()
    key = None if own is None or own.values.llm_api_key is None else own.values.llm_api_key.value
    return key, [
        (s.value.value, None if s.description is None else s.description.value) for s in secrets
    ]
