"""What an anonymous caller can make the production server keep: sign-ins started per client
address are limited, and the client is the peer unless a trusted proxy says otherwise."""

import ipaddress
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.conftest import REDIS_URL
from tests.e2e.test_server import clustered, running_server
from tests.support.oidc import OidcProvider, run_oidc_provider

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis, pytest.mark.oidc]

APP = "http://maestrist.localhost"
LIMIT = 3


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(f"{APP}/api/auth/callback", f"{APP}/") as provider:
        yield provider


def _settings(
    tmp_path: Path, postgres_url: str, oidc: OidcProvider, **extra: str
) -> dict[str, str]:
    return {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_PUBLIC_URL": APP,
        "MAESTRIST_OIDC_ISSUER": oidc.issuer,
        "MAESTRIST_OIDC_CLIENT_ID": oidc.client_id,
        "MAESTRIST_OIDC_CLIENT_SECRET": oidc.client_secret,
        "MAESTRIST_SIGN_IN_STARTS_PER_CLIENT": str(LIMIT),
        **extra,
    }


def _fresh_address() -> str:
    """An address of the documentation range no other test run uses (a fresh /64)."""
    network = secrets.randbits(32)
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | (network << 64) | 1))


def _start(http: httpx.Client, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return http.get("/api/auth/login", headers=headers, follow_redirects=False)


def test_a_client_may_start_so_many_sign_ins_then_gets_429_with_retry_after(
    tmp_path: Path, postgres_url: str, oidc: OidcProvider
) -> None:
    settings = _settings(tmp_path, postgres_url, oidc, MAESTRIST_TRUSTED_PROXIES="127.0.0.1")
    with running_server(tmp_path / "server.log", settings) as server:
        client, other = _fresh_address(), _fresh_address()
        neighbour = client.rsplit(":", 1)[0] + ":2"  # the same /64 as ``client``
        started = [_start(server.http, client) for _ in range(LIMIT)]
        refused = _start(server.http, f"{client}, 127.0.0.1")
        same_block = _start(server.http, neighbour)
        elsewhere = _start(server.http, other)

    assert [r.status_code for r in started] == [302] * LIMIT
    for too_many in (refused, same_block):
        assert too_many.status_code == 429
        assert too_many.headers["content-type"].startswith("application/problem+json")
        assert too_many.json()["code"] == "too-many-sign-ins"
        assert 0 < int(too_many.headers["retry-after"]) <= 600
        assert "set-cookie" not in too_many.headers
    assert elsewhere.status_code == 302


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    tmp_path: Path, postgres_url: str, oidc: OidcProvider
) -> None:
    peer_key = "maestrist:login:by-client:127.0.0.1"
    redis = Redis.from_url(REDIS_URL)
    try:
        with running_server(
            tmp_path / "server.log", _settings(tmp_path, postgres_url, oidc)
        ) as server:
            # every start counts against the peer, whatever address the header claims, so
            # one more than the limit is refused even if no earlier run counted any
            answers = [_start(server.http, _fresh_address()) for _ in range(LIMIT + 1)]
    finally:
        redis.delete(peer_key)
        redis.close()
    assert answers[-1].status_code == 429
    assert answers[-1].json()["code"] == "too-many-sign-ins"
