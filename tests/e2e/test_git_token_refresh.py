"""Two production servers (``maestrist serve``) sharing PostgreSQL and Redis: a hundred requests
split over both, on an expired GitHub token, refresh it at the loopback GitHub exactly once."""

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy import SqlaApiKeyRepository
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.scopes import Scope
from tests.conftest import REDIS_URL
from tests.db import add_user, sqla_ports
from tests.e2e.test_server import RunningServer, clustered, running_server
from tests.factories import create_api_key
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.support.provider_tokens import seed_token, stored_token

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

ACCOUNT = "/api/user/git-providers/github/account"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("ada", name="Ada Lovelace")
        yield fake


async def _ada_with_expired_token(url: str, github: FakeGitHub) -> tuple[ProviderToken, str]:
    """Ada, an API key of hers that may read git providers, and an expired GitHub token with a
    refresh token the fake redeems once."""
    ada = await add_user(url, "sub-ada")
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        personal = (await ports.orgs.list_for_member(ada.id_))[0].organization
        key, api_token = create_api_key(
            ada, personal.id_, scopes=frozenset({Scope.GIT_READ}), expires_at=None
        )
        assert isinstance(ports.api_keys, SqlaApiKeyRepository)
        await ports.api_keys.add(key)
        await ports.uow.commit()
    now = datetime.now(UTC)
    token = ProviderToken(
        user_id=ada.id_,
        host=GitHost(ProviderKind.GITHUB),
        access_token=github.issue_token("ada", expires_in=-60),
        refresh_token=github.issue_refresh_token("ada"),
        expires_at=now - timedelta(minutes=1),
        refresh_expires_at=now + timedelta(days=30),
        scopes="repo",
        updated_at=now - timedelta(hours=8),
    )
    await seed_token(url, token)
    return token, str(api_token)


async def _hundred_requests(base_urls: list[str], api_token: str) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {api_token}"}
    clients = [
        httpx.AsyncClient(base_url=url, timeout=30, trust_env=False, headers=headers)
        for url in base_urls
    ]
    try:
        return await asyncio.gather(*(clients[i % len(clients)].get(ACCOUNT) for i in range(100)))
    finally:
        for client in clients:
            await client.aclose()


def _served(server: RunningServer) -> int:
    """How many account requests ``server`` logged: a request's access line is written after
    its answer is sent, so the last ones may still be on their way; wait for them (5 s)."""
    deadline = time.monotonic() + 5
    while True:
        count = sum(1 for record in server.log_records() if record.get("path") == ACCOUNT)
        if count >= 50 or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def test_two_servers_refresh_an_expired_token_exactly_once(
    tmp_path: Path, postgres_url: str, github: FakeGitHub
) -> None:
    before, api_token = asyncio.run(_ada_with_expired_token(postgres_url, github))
    github.token_delay_s = 0.3
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_GITHUB_URL": github.base_url,
        "MAESTRIST_GITHUB_CLIENT_ID": github.client_id,
        "MAESTRIST_GITHUB_CLIENT_SECRET": github.client_secret,
        # fifty requests at once per server share its 20 database connections: on a busy
        # machine give them time
        "MAESTRIST_DEPENDENCY_TIMEOUT": "10",
    }
    with (
        running_server(tmp_path / "first.log", settings) as first,
        running_server(tmp_path / "second.log", settings) as second,
    ):
        answers = asyncio.run(_hundred_requests([first.base_url, second.base_url], api_token))
        served = [_served(server) for server in (first, second)]
        logs = first.log() + second.log()

    failed = [a.text for a in answers if a.status_code != 200]
    assert failed == [], (failed[:1], [line for line in logs.splitlines() if "error" in line])
    assert {a.json()["login"] for a in answers} == {"ada"}
    assert served == [50, 50], logs
    assert github.refresh_calls == 1
    after = asyncio.run(stored_token(postgres_url, before.user_id))
    assert after is not None
    assert after.access_token != before.access_token
    for secret in (before.access_token, before.refresh_token, after.access_token, api_token):
        assert secret is not None
        assert secret not in logs
