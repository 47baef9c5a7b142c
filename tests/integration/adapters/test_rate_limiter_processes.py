"""Two OS processes, each with its own Redis rate limiter as a server has, hitting one key
at once: together they accept exactly the limit, whichever wins each race."""

import contextlib
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[3]

HITTER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import timedelta
    from adapters.redis import RedisRateLimiter, create_redis_client
    from application.ports.rate_limiter import Rate, RatePolicy

    async def main(url, prefix, hits):
        client = create_redis_client(url, timeout_s=5, max_connections=50)
        limiter = RedisRateLimiter(client, prefix=prefix, timeout_s=5)
        policy = RatePolicy(name="race", rates=(Rate(amount=50, per=timedelta(minutes=1)),))
        print("ready", flush=True)
        sys.stdin.readline()  # both start together
        decisions = await asyncio.gather(*(limiter.hit(policy, "shared") for _ in range(hits)))
        print(sum(d.allowed for d in decisions), flush=True)
        await client.aclose()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def test_two_processes_on_one_key_accept_exactly_the_limit_together() -> None:
    prefix = f"maestrist-test:{secrets.token_hex(8)}:rate"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    try:
        with contextlib.ExitStack() as stack:
            hitters = [
                stack.enter_context(
                    subprocess.Popen(  # this interpreter, with a script of this file
                        [sys.executable, "-c", HITTER, REDIS_URL, prefix, "40"],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                        env=env,
                    )
                )
                for _ in range(2)
            ]
            for hitter in hitters:
                stack.callback(hitter.kill)
            for hitter in hitters:
                assert hitter.stdout is not None
                assert hitter.stdout.readline().strip() == "ready"
            for hitter in hitters:
                assert hitter.stdin is not None
                hitter.stdin.write("go\n")
                hitter.stdin.flush()
            accepted = [int(hitter.communicate(timeout=60)[0].strip()) for hitter in hitters]
    finally:
        client = Redis.from_url(REDIS_URL)
        leftovers = list(client.scan_iter(match=f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)
        client.close()
    assert sum(accepted) == 50
