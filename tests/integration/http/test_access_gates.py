"""Email verification and terms acceptance are enforced before any handler runs."""

import subprocess
import sys
from pathlib import Path

import pytest

from domain.organizations.entities import Organization
from entrypoints.settings import Settings
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS, clustered_settings
from tests.db import sqla_ports
from tests.factories import create_user
from tests.integration.http.conftest import BearerSubjectAuth, bearer, serve


async def _add(url: str, subject: str, *, verified: bool) -> None:
    user = create_user(subject)
    user.email_verified = verified
    personal = Organization.personal_for(owner=user.id_, display_name=subject, now=user.created_at)
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.users.add(user)
        await ports.orgs.add(*personal)
        await ports.uow.commit()


@pytest.mark.postgres
async def test_unverified_email_is_403_except_on_the_gate_routes(postgres_url: str) -> None:
    await _add(postgres_url, "unverified", verified=False)
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        me = await client.get("/api/user/me", headers=bearer("unverified"))
        orgs = await client.get("/api/orgs", headers=bearer("unverified"))
        create = await client.post("/api/orgs", json={"name": "x"}, headers=bearer("unverified"))
        resend = await client.post("/api/user/email/verification", headers=bearer("unverified"))
    assert resend.status_code == 404  # no Keycloak: no route sends the link
    assert me.status_code == 200
    assert me.json()["emailVerified"] is False
    for refused in (orgs, create):
        assert refused.status_code == 403
        assert refused.json()["code"] == "email-not-verified"
        # without Keycloak no route sends the link: the problem sends the person to the
        # identity provider instead of to a route that does not exist here
        assert refused.json().get("links") is None
        assert "identity provider" in refused.json()["detail"]
        assert "/api/user/email/verification" not in refused.json()["detail"]


@pytest.mark.postgres
async def test_terms_must_be_accepted_in_their_current_version(postgres_url: str) -> None:
    await _add(postgres_url, "ada", verified=True)
    clustered = clustered_settings(postgres_url)
    settings = clustered.with_changes(
        identity=clustered.identity.with_changes(
            terms_version="2026-11", terms_url="https://example.com/terms"
        )
    )
    async with serve(settings, BearerSubjectAuth()) as client:
        refused = await client.get("/api/orgs", headers=bearer("ada"))
        assert refused.status_code == 403
        problem = refused.json()
        assert problem["code"] == "terms-not-accepted"
        assert problem["links"] == {
            "accept": "/api/user/terms",
            "version": "2026-11",
            "terms": "https://example.com/terms",
        }
        stale = await client.post(
            "/api/user/terms", json={"version": "2025-01"}, headers=bearer("ada")
        )
        assert stale.status_code == 422
        assert stale.json()["errors"][0]["field"] == "version"
        accepted = await client.post(
            "/api/user/terms", json={"version": "2026-11"}, headers=bearer("ada")
        )
        assert accepted.status_code == 200
        assert accepted.json()["termsAcceptedVersion"] == "2026-11"
        orgs = await client.get("/api/orgs", headers=bearer("ada"))
        assert orgs.status_code == 200
        personal = orgs.json()["items"][0]["id"]
        audit = await client.get(f"/api/orgs/{personal}/audit", headers=bearer("ada"))
        assert "user.terms_accepted" in {e["action"] for e in audit.json()["items"]}
    newer = settings.with_changes(identity=settings.identity.with_changes(terms_version="2027-01"))
    async with serve(newer, BearerSubjectAuth()) as client:
        again = await client.get("/api/orgs", headers=bearer("ada"))
    assert again.status_code == 403
    assert again.json()["code"] == "terms-not-accepted"


async def test_the_local_user_passes_the_gates(embedded_settings: Settings) -> None:
    terms = embedded_settings.identity.with_changes(terms_version="1")
    async with serve(embedded_settings.with_changes(identity=terms)) as client:
        assert (await client.get("/api/orgs")).status_code == 200


async def test_require_api_key_refuses_requests_without_one(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    settings = embedded_settings.with_changes(
        embedded=embedded_settings.embedded.with_changes(require_api_key=True)
    )
    env = {
        "MAESTRIST_DATA_DIR": str(settings.data_dir),
        "MAESTRIST_LOG_LEVEL": "WARNING",
        "PATH": "",
    }
    made = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", "api-key", "create", "--name", "first"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    token = made.stdout.strip()
    async with serve(settings) as client:
        bare = await client.get("/api/user/me")
        keyed = await client.get("/api/user/me", headers={"Authorization": f"Bearer {token}"})
    assert bare.status_code == 401
    assert keyed.status_code == 200
    assert keyed.json()["email"] == "local@localhost"


def test_api_key_command_refuses_the_clustered_binding(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", "api-key", "create"],
        env={
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": "postgresql+asyncpg://x@127.0.0.1:1/x",
            "MAESTRIST_REDIS_URL": "redis://127.0.0.1:1/0",
            "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
        },
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert made.returncode == 2
    assert "MAESTRIST_BINDING" in made.stderr
