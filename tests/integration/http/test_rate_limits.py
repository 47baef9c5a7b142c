"""Rate limits through the app: a caller over a limit gets a 429 problem document with
``Retry-After`` and the ``RateLimit`` headers; buckets are per address, person, API key and
organization; ``X-Forwarded-For`` counts only from a trusted proxy; and a limiter that
cannot answer lets reads through and refuses costly actions."""

import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from dishka import Provider, Scope, provide
from litestar import Litestar

from adapters.redis import RedisRateLimiter, create_redis_client
from application.ports.rate_limiter import RateLimiter
from application.rate_limits import RateLimitCounters
from entrypoints.ioc import create_app
from entrypoints.settings import Settings
from tests.conftest import REDIS_URL, TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, bearer, serve

EVERY_LIMIT_OFF = {
    "MAESTRIST_RATE_LIMIT_PER_IP": "off",
    "MAESTRIST_RATE_LIMIT_SIGN_IN_PER_IP": "off",
    "MAESTRIST_RATE_LIMIT_WEBHOOKS_PER_IP": "off",
    "MAESTRIST_RATE_LIMIT_PER_USER": "off",
    "MAESTRIST_RATE_LIMIT_PER_API_KEY": "off",
    "MAESTRIST_RATE_LIMIT_PER_ORG": "off",
    "MAESTRIST_RATE_LIMIT_COSTLY_PER_USER": "off",
    "MAESTRIST_RATE_LIMIT_SOCKET_CONNECTS_PER_IP": "off",
}
"""Each test turns on only the limits it is about."""

ITEM = re.compile(r'^"([a-z-]+-\d+s)";(?:q=\d+;w=\d+|r=\d+;t=\d+)$')


def embedded(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(
        {"MAESTRIST_DATA_DIR": str(tmp_path), "MAESTRIST_ACCESS_LOG": "false"}
        | EVERY_LIMIT_OFF
        | env
    )


def clustered(url: str, **env: str) -> Settings:
    return Settings.from_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": url,
            "MAESTRIST_REDIS_URL": REDIS_URL,
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_DEPENDENCY_TIMEOUT": "1",
            "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
        }
        | EVERY_LIMIT_OFF
        | env
    )


@asynccontextmanager
async def from_addresses(app: Litestar, *addresses: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per address, each reaching ``app`` from that address."""
    async with app.lifespan(), contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=(address, 40000)),  # type: ignore[arg-type]  # ASGI, typed narrower
                    base_url="http://testserver.local",
                )
            )
            for address in addresses
        ]


def items(header: str) -> list[str]:
    return [item.strip() for item in header.split(",")]


def assert_rate_limited(response: httpx.Response, policy: str, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["status"], problem["code"], problem["limit"]) == (429, "rate-limited", limit)
    assert problem["type"] == "urn:maestrist:problem:rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    policies = items(response.headers["ratelimit-policy"])
    current = items(response.headers["ratelimit"])
    assert all(ITEM.match(item) for item in policies + current), (policies, current)
    assert f'"{policy}";r=0;t=' in response.headers["ratelimit"]
    retry_after = int(response.headers["retry-after"])
    t = int(response.headers["ratelimit"].split(f'"{policy}";r=0;t=')[1].split(",")[0])
    assert retry_after >= t


async def test_a_person_over_the_limit_gets_429_with_the_headers(tmp_path: Path) -> None:
    settings = embedded(tmp_path, MAESTRIST_RATE_LIMIT_PER_USER="3/minute; 100/hour")
    async with serve(settings) as client:
        answers = [await client.get("/api/user/me") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    first = answers[0]
    assert first.headers["ratelimit-policy"] == '"user-60s";q=3;w=60, "user-3600s";q=100;w=3600'
    assert re.fullmatch(r'"user-60s";r=2;t=\d+', first.headers["ratelimit"])
    assert_rate_limited(answers[3], "user-60s", 3)


async def test_the_switch_turns_every_limit_off(tmp_path: Path) -> None:
    settings = embedded(
        tmp_path, MAESTRIST_RATE_LIMIT_PER_USER="1/minute", MAESTRIST_RATE_LIMIT_ENABLED="false"
    )
    async with serve(settings) as client:
        answers = [await client.get("/api/user/me") for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert "ratelimit" not in answers[0].headers


async def test_a_costly_action_takes_its_cost_before_anything_else(tmp_path: Path) -> None:
    """A conversation start costs 10 of 15 a minute: the second is refused at once, before
    its body is even read, while reads go on."""
    settings = embedded(
        tmp_path,
        MAESTRIST_RATE_LIMIT_COSTLY_PER_USER="15/minute",
        MAESTRIST_RATE_LIMIT_COSTS="start_conversation=10,send_message=5",
    )
    async with serve(settings) as client:
        first = await client.post("/api/conversations", json={})
        second = await client.post("/api/conversations", json={})
        message = await client.post(
            "/api/conversations/00000000-0000-4000-8000-000000000000/messages",
            json={"text": "hi"},
        )
        refused_message = await client.post(
            "/api/conversations/00000000-0000-4000-8000-000000000000/messages",
            json={"text": "hi"},
        )
        read = await client.get("/api/conversations")
    assert first.status_code in {400, 422}  # refused for its empty body, after its cost
    assert '"costly-60s";r=5;t=' in first.headers["ratelimit"]
    assert_rate_limited(second, "costly-60s", 15)
    assert message.status_code == 404
    assert_rate_limited(refused_message, "costly-60s", 15)
    assert read.status_code == 200


async def test_api_keys_have_buckets_of_their_own_within_their_persons(tmp_path: Path) -> None:
    settings = embedded(
        tmp_path,
        MAESTRIST_RATE_LIMIT_PER_API_KEY="2/minute",
        MAESTRIST_RATE_LIMIT_PER_USER="7/minute",
    )
    async with serve(settings) as client:
        keys = []
        for name in ("one", "two"):
            made = await client.post("/api/keys", json={"name": name})
            assert made.status_code == 201, made.text
            keys.append({"Authorization": f"Bearer {made.json()['token']}"})
        one = [(await client.get("/api/user/me", headers=keys[0])).status_code for _ in range(3)]
        two = [(await client.get("/api/user/me", headers=keys[1])).status_code for _ in range(2)]
        person = await client.get("/api/user/me")
    assert one == [200, 200, 429]
    assert two == [200, 200]
    assert_rate_limited(person, "user-60s", 7)


async def test_anonymous_routes_are_limited_per_client_address(tmp_path: Path) -> None:
    app = create_app(embedded(tmp_path, MAESTRIST_RATE_LIMIT_PER_IP="2/minute"))
    async with from_addresses(app, "203.0.113.7", "198.51.100.9") as (first, other):
        mine = [(await first.get("/schema/openapi.json")).status_code for _ in range(3)]
        theirs = (await other.get("/schema/openapi.json")).status_code
        health = [(await first.get("/health/live")).status_code for _ in range(3)]
    assert mine == [200, 200, 429]
    assert theirs == 200
    assert health == [200] * 3


async def test_failed_authentication_counts_against_the_address(tmp_path: Path) -> None:
    """Guessing API keys is held to the anonymous limit of the guesser's address."""
    app = create_app(embedded(tmp_path, MAESTRIST_RATE_LIMIT_PER_IP="3/minute"))
    guess = {"Authorization": "Bearer mst_guess_0000"}
    async with from_addresses(app, "203.0.113.7", "2001:db8::1") as (guesser, other):
        guesses = [(await guesser.get("/api/user/me", headers=guess)).status_code for _ in range(4)]
        signed_in = [(await guesser.get("/api/user/me")).status_code for _ in range(4)]
        elsewhere = (await other.get("/api/user/me", headers=guess)).status_code
    assert guesses == [401, 401, 401, 429]
    assert signed_in == [200] * 4
    assert elsewhere == 401


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    settings = embedded(
        tmp_path, MAESTRIST_RATE_LIMIT_PER_IP="2/minute", MAESTRIST_TRUSTED_PROXIES="10.0.0.1"
    )
    app = create_app(settings)
    async with from_addresses(app, "203.0.113.7", "10.0.0.1") as (untrusted, proxy):
        spoofed = [
            (
                await untrusted.get(
                    "/schema/openapi.json", headers={"X-Forwarded-For": f"192.0.2.{n}"}
                )
            ).status_code
            for n in range(3)
        ]
        forwarded = [
            (
                await proxy.get(
                    "/schema/openapi.json", headers={"X-Forwarded-For": f"192.0.2.{n % 3}"}
                )
            ).status_code
            for n in range(9)
        ]
    assert spoofed == [200, 200, 429]
    # From the proxy, each forwarded client has its own bucket of two.
    assert forwarded == [200] * 6 + [429] * 3


@pytest.mark.postgres
@pytest.mark.redis
async def test_people_and_organizations_do_not_share_buckets_across_servers(
    postgres_url: str,
) -> None:
    """Two apps on one Redis count together: a person's bucket is the same on both, and
    another person's, or another organization's, is not that bucket."""
    await add_user(postgres_url, "ada")
    await add_user(postgres_url, "bob")
    settings = clustered(
        postgres_url,
        MAESTRIST_RATE_LIMIT_PER_USER="3/minute",
        MAESTRIST_RATE_LIMIT_PER_ORG="2/minute",
    )
    async with (
        serve(settings, BearerSubjectAuth()) as one,
        serve(settings, BearerSubjectAuth()) as two,
    ):
        ada = [
            (await server.get("/api/user/me", headers=bearer("ada"))).status_code
            for server in (one, two, one, two)
        ]
        bob = (await two.get("/api/user/me", headers=bearer("bob"))).status_code
        bob_in_org = [
            (await server.get("/api/settings", headers=bearer("bob"))).status_code
            for server in (one, two)
        ]
        over_org = await one.get("/api/user/me", headers=bearer("bob"))
    assert ada == [200, 200, 200, 429]
    assert bob == 200
    assert bob_in_org == [200, 200]
    assert_rate_limited(over_org, "user-60s", 3)


class LimiterAtClosedPort(Provider):
    """The rate limiter on a Redis nobody answers at, every other part on the real one."""

    @provide(scope=Scope.APP, override=True)
    async def rate_limiter(self) -> AsyncIterator[RateLimiter]:
        client = create_redis_client("redis://127.0.0.1:1/0", timeout_s=0.5, max_connections=4)
        yield RedisRateLimiter(client, timeout_s=0.5)
        await client.aclose()


@pytest.mark.postgres
@pytest.mark.redis
async def test_without_redis_reads_fail_open_and_costly_actions_fail_closed(
    postgres_url: str,
) -> None:
    await add_user(postgres_url, "ada")
    settings = clustered(
        postgres_url,
        MAESTRIST_RATE_LIMIT_PER_USER="100/minute",
        MAESTRIST_RATE_LIMIT_COSTLY_PER_USER="100/minute",
    )
    app = create_app(settings, BearerSubjectAuth(), LimiterAtClosedPort())
    async with from_addresses(app, "127.0.0.1") as (client,):
        read = await client.get("/api/user/me", headers=bearer("ada"))
        start = await client.post("/api/conversations", json={}, headers=bearer("ada"))
        counters = await app.state.dishka_container.get(RateLimitCounters)
    assert read.status_code == 200
    assert "ratelimit" not in read.headers
    assert start.status_code == 503
    assert start.json()["code"] == "dependency-unavailable"
    assert start.headers["retry-after"]
    assert counters.unavailable == {("user", "allowed"): 2, ("costly", "refused"): 1}


@pytest.mark.postgres
@pytest.mark.redis
async def test_without_redis_every_limit_fails_closed_when_told_to(postgres_url: str) -> None:
    await add_user(postgres_url, "ada")
    settings = clustered(
        postgres_url,
        MAESTRIST_RATE_LIMIT_PER_USER="100/minute",
        MAESTRIST_RATE_LIMIT_ON_FAILURE="closed",
    )
    app = create_app(settings, BearerSubjectAuth(), LimiterAtClosedPort())
    async with from_addresses(app, "127.0.0.1") as (client,):
        read = await client.get("/api/user/me", headers=bearer("ada"))
    assert read.status_code == 503
    assert read.json()["code"] == "dependency-unavailable"
