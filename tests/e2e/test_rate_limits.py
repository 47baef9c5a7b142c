"""Rate limits through the production server: one API key's requests spread over two
``maestrist serve`` processes of two workers each, sharing Redis, are admitted up to the limit
and no further, and every refusal is a 429 problem with its headers, from either server."""

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_cli import run
from tests.e2e.test_server import clustered, running_server, server_env

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

LIMIT = 12


def test_one_keys_requests_over_two_servers_are_admitted_up_to_its_limit(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = clustered(tmp_path, postgres_url, REDIS_URL) | {
        "MAESTRIST_RATE_LIMIT_ENABLED": "true",
        "MAESTRIST_RATE_LIMIT_PER_API_KEY": f"{LIMIT}/minute",
        "MAESTRIST_RATE_LIMIT_PER_USER": "1000/minute",
        "MAESTRIST_RATE_LIMIT_PER_ORG": "1000/minute",
        "MAESTRIST_RATE_LIMIT_PER_IP": "1000/minute",
        "MAESTRIST_WORKERS": "2",
    }
    env = server_env(settings)
    assert run(env, "migrate").returncode == 0
    assert run(env, "user", "create", "limited@example.com").returncode == 0
    made = run(env, "api-key", "create", "--user", "limited@example.com", "--name", "busy")
    assert made.returncode == 0, made.stderr
    auth = {"Authorization": f"Bearer {made.stdout.strip()}"}
    # A fresh key is a fresh bucket in Redis: earlier runs count nothing here.

    with ExitStack() as stack:
        servers = [
            stack.enter_context(running_server(tmp_path / f"serve-{n}.log", settings))
            for n in range(2)
        ]

        def call(n: int) -> httpx.Response:
            with httpx.Client(base_url=servers[n % 2].base_url, timeout=30, trust_env=False) as c:
                return c.get("/api/user/me", headers=auth)

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(call, range(3 * LIMIT)))

    admitted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(admitted) == LIMIT, [a.status_code for a in answers]
    assert len(refused) == 2 * LIMIT
    assert {a.request.url.port for a in refused} == {s.port for s in servers}
    for answer in refused:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert json.loads(answer.text)["code"] == "rate-limited"
        assert 0 < int(answer.headers["retry-after"]) <= 60
        assert answer.headers["ratelimit-policy"]
        assert "r=0" in answer.headers["ratelimit"]
