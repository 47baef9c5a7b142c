"""Buying credits end to end: ``maestrist serve`` (clustered, its own job workers) and the
loopback Stripe in processes of their own, the stand-in posting the signed event straight to
the server's webhook address, as Stripe does."""

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.e2e.test_cli import TOKEN, run
from tests.e2e.test_server import clustered, running_server, server_env
from tests.support.stripe_server import STRIPE_WEBHOOK_SECRET, running_stripe, signed_event

pytestmark = [pytest.mark.server, pytest.mark.postgres]


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came to be")
        time.sleep(0.1)


def test_credits_bought_through_checkout_are_credited_once(
    tmp_path: Path, postgres_url: str
) -> None:
    with running_stripe() as stripe:
        settings = clustered(tmp_path, postgres_url, REDIS_URL) | {
            "MAESTRIST_RUNTIME": "scripted",
            "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
            "MAESTRIST_PUBLIC_URL": "https://maestrist.example.com",
            "MAESTRIST_STRIPE_SECRET_KEY": stripe.api_key,
            "MAESTRIST_STRIPE_WEBHOOK_SECRETS": STRIPE_WEBHOOK_SECRET,
            "MAESTRIST_STRIPE_API_BASE": stripe.url,
        }
        env = server_env(settings)
        assert run(env, "migrate").returncode == 0
        assert run(env, "user", "create", "ada@example.com").returncode == 0
        made = run(env, "api-key", "create", "--user", "ada@example.com")
        assert made.returncode == 0, made.stderr
        found = TOKEN.search(made.stdout)
        assert found is not None
        ada = {"Authorization": f"Bearer {found[0]}"}

        with running_server(tmp_path / "serve.log", settings) as server:
            asyncio.run(stripe.register_webhook(f"{server.base_url}/api/webhooks/stripe"))
            [org] = server.http.get("/api/orgs", headers=ada).json()["items"]
            billing = f"/api/orgs/{org['id']}/billing"
            bought = server.http.post(f"{billing}/checkout", json={"amount": 25}, headers=ada)
            assert bought.status_code == 201, bought.text
            session_id = bought.json()["purchase"]["checkoutSessionId"]

            paid: dict[str, Any] = asyncio.run(stripe.pay(session_id))
            assert paid["delivered"] == [202]
            event = paid["event"]
            again = signed_event(event["type"], event["data"]["object"], event_id=event["id"])
            answer = server.http.post("/api/webhooks/stripe", content=again[0], headers=again[1])
            assert answer.status_code == 202

            def balance() -> int:
                read = server.http.get(billing, headers=ada)
                assert read.status_code == 200, read.text
                found: int = read.json()["balanceMicros"]
                return found

            _until(lambda: balance() > 0, "the credit")
            purchase = server.http.get(
                f"{billing}/purchases/{bought.json()['purchase']['id']}", headers=ada
            )
            final = balance()

    listed = run(env, "webhooks", "list", "--source", "stripe")
    deliveries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(d["deliveryId"], d["state"], d["outcome"]) for d in deliveries] == [
        (event["id"], "processed", "credited")
    ]
    assert final == 25_000_000
    assert purchase.json()["status"] == "paid"
