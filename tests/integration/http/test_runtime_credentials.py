"""The agent runtime's git credential: a short-lived signed grant it exchanges for the user's
current provider token, so no long-lived token is handed to a sandbox."""

import stat
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher, JwsTokenSigner
from adapters.sqlalchemy import SqlaUnitOfWork, create_database_engine
from adapters.sqlalchemy.provider_token_store import SqlaProviderTokenStore
from adapters.system.clock import SystemClock
from application.git.runtime_credentials import (
    RUNTIME_AUDIENCE,
    RuntimeCredentialTtl,
    RuntimeGitCredentials,
)
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from entrypoints.settings import Settings, parse_encryption_keys
from tests.backends import TEST_CIPHER
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS, clustered_settings
from tests.db import add_user
from tests.fakes import FakeClock
from tests.integration.http.conftest import BearerSubjectAuth, serve

pytestmark = pytest.mark.postgres

HEADER = "X-Access-Token"
SIGNER = JwsTokenSigner(parse_encryption_keys(TEST_SIGNING_KEYS))


def issue(user_id: UserId, provider: ProviderKind, *, at: datetime | None = None) -> str:
    """What the server hands a runtime it starts for this user."""
    clock = FakeClock(at) if at is not None else SystemClock()
    minutes = RuntimeCredentialTtl(timedelta(minutes=10))
    return RuntimeGitCredentials(SIGNER, clock, minutes).issue(user_id, provider).token


async def store_token(url: str, token: ProviderToken) -> None:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            cipher = AesGcmCipher(parse_encryption_keys(TEST_ENCRYPTION_KEYS))
            await SqlaProviderTokenStore(session, cipher).put(token)
            await SqlaUnitOfWork(session, TEST_CIPHER).commit()
    finally:
        await engine.dispose()


def github_token(user_id: UserId, *, expires_at: datetime | None) -> ProviderToken:
    return ProviderToken(
        user_id=user_id,
        host=GitHost(ProviderKind.GITHUB, "https://git.example.com"),
        access_token="ghu_live-token-value",
        refresh_token=None,
        expires_at=expires_at,
        scopes="repo",
        updated_at=datetime.now(UTC),
    )


async def test_a_runtime_exchanges_its_credential_for_the_current_token(
    postgres_url: str,
) -> None:
    user = await add_user(postgres_url, "alice")
    await store_token(postgres_url, github_token(user.id_, expires_at=None))
    credential = issue(user.id_, ProviderKind.GITHUB)
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        response = await client.get("/api/runtime/git-token", headers={HEADER: credential})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "provider": "github",
            "token": "ghu_live-token-value",
            "baseUrl": "https://git.example.com",
            "expiresAt": None,
        }
        assert response.headers["cache-control"] == "no-store"
        # The same credential works again while it lasts: a runtime asks whenever it pushes.
        # Asked for text, the answer is the bare token (what git credential helpers and the
        # agent-server's looked-up secrets read).
        again = await client.get(
            "/api/runtime/git-token", headers={HEADER: credential, "Accept": "text/plain"}
        )
        assert again.status_code == 200
        assert again.text == "ghu_live-token-value"
        assert again.headers["content-type"].startswith("text/plain")
        assert again.headers["cache-control"] == "no-store"


async def test_forged_expired_or_misdirected_credentials_are_refused(postgres_url: str) -> None:
    user = await add_user(postgres_url, "alice")
    await store_token(postgres_url, github_token(user.id_, expires_at=None))
    good = issue(user.id_, ProviderKind.GITHUB)
    other_key = JwsTokenSigner({"test-sig-1": b"\x01" * 32})
    now = datetime.now(UTC)
    refused = {
        "missing": None,
        "empty": "",
        "garbage": "not-a-token",
        "expired": issue(user.id_, ProviderKind.GITHUB, at=now - timedelta(minutes=11)),
        "altered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "another key, same id": other_key.sign(
            {"sub": str(user.id_), "provider": "github"},
            audience=RUNTIME_AUDIENCE,
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
        ),
        "another audience": SIGNER.sign(
            {"sub": str(user.id_), "provider": "github"},
            audience="maestrist:something-else",
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
        ),
        "unknown provider": SIGNER.sign(
            {"sub": str(user.id_), "provider": "sourceforge"},
            audience=RUNTIME_AUDIENCE,
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
        ),
        "oversized": "x" * 5000,
    }
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        for name, credential in refused.items():
            headers = {} if credential is None else {HEADER: credential}
            response = await client.get("/api/runtime/git-token", headers=headers)
            assert response.status_code in (401, 422), (name, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "ghu_live-token-value" not in response.text
        # A session or API key is no way in either: only the runtime credential is.
        bearer_only = await client.get(
            "/api/runtime/git-token", headers={"Authorization": "Bearer alice"}
        )
        assert bearer_only.status_code == 401


async def test_a_user_without_that_provider_gets_not_connected(postgres_url: str) -> None:
    user = await add_user(postgres_url, "alice")
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        response = await client.get(
            "/api/runtime/git-token", headers={HEADER: issue(user.id_, ProviderKind.GITLAB)}
        )
    assert response.status_code == 404
    assert response.json()["code"] == "git-provider-not-connected"


async def test_an_expired_token_that_cannot_be_refreshed_asks_for_a_reconnect(
    postgres_url: str,
) -> None:
    user = await add_user(postgres_url, "alice")
    expired = github_token(user.id_, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    await store_token(postgres_url, expired)
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        response = await client.get(
            "/api/runtime/git-token", headers={HEADER: issue(user.id_, ProviderKind.GITHUB)}
        )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "git-provider-reconnect-required"
    assert "ghu_live-token-value" not in response.text


async def test_the_embedded_binding_signs_with_a_generated_key_of_its_own(
    embedded_settings: Settings,
) -> None:
    async with serve(embedded_settings) as client:
        response = await client.get("/api/runtime/git-token", headers={HEADER: "x.y.z"})
        assert response.status_code == 401
    signing = embedded_settings.data_dir / "signing-keys"
    encryption = embedded_settings.data_dir / "encryption-keys"
    assert signing.exists()
    assert encryption.exists()
    assert stat.S_IMODE(signing.stat().st_mode) == 0o600
    signing_keys = set(parse_encryption_keys(signing.read_text().strip()).values())
    encryption_keys = set(parse_encryption_keys(encryption.read_text().strip()).values())
    assert not signing_keys & encryption_keys
