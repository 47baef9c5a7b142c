"""Budgets through ``maestrist serve`` on the scripted runtime, with the operator's CLI as the
payment: a conversation the organization pays for is refused (402) without money, debited per
usage report as its agent works, paused with a reason once the balance runs out, refused
again, and resumed by itself after a top-up; its usage shows per model; a member's own key is
never charged."""

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_server import RunningServer, running_server, server_env
from tests.support.polling import GENEROUS_S

pytestmark = pytest.mark.server

MAESTRIST = str(Path(sys.executable).with_name("maestrist"))


def _cli(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [MAESTRIST, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _eventually(
    read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + GENEROUS_S
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _conversation(server: RunningServer, cid: str) -> dict[str, Any]:
    response = server.http.get(f"/api/conversations/{cid}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_an_org_paid_conversation_stops_when_the_money_runs_out_and_goes_on_after_a_top_up(
    tmp_path: Path,
) -> None:
    settings = {
        "MAESTRIST_DATA_DIR": str(tmp_path / "data"),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_BILLING_ENFORCED": "true",
        "MAESTRIST_BILLING_MIN_BALANCE": "1.00",
    }
    cli_env = server_env(settings)
    with running_server(tmp_path / "server.log", settings) as server:
        [org] = [o["id"] for o in server.http.get("/api/orgs").json()["items"]]
        mine = server.http.post("/api/settings", json={"llmModel": "openai/gpt-4o"})
        assert mine.status_code == 200, mine.text
        orgs = server.http.post(f"/api/orgs/{org}/settings", json={"llmApiKey": "sk-org-key"})
        assert orgs.status_code == 200, orgs.text

        refused = server.http.post("/api/conversations", json={"message": "Go"})
        assert refused.status_code == 402, refused.text
        assert refused.json()["code"] == "insufficient-funds"
        assert "0.00 USD" in refused.json()["detail"]

        [credited] = _cli(cli_env, "billing", "adjust", org, "2.00", "trial", "--key", "t1")
        assert (credited["recorded"], credited["balance"]) == (True, "2.000000")
        [again] = _cli(cli_env, "billing", "adjust", org, "2.00", "trial", "--key", "t1")
        assert (again["recorded"], again["balance"]) == (False, "2.000000")

        created = server.http.post("/api/conversations", json={"message": "/spend 20 200"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        paused = _eventually(lambda: _conversation(server, cid), lambda c: c["status"] == "paused")
        assert paused["status"] == "paused", paused
        assert "balance ran out" in paused["statusReason"]

        head, *entries = _cli(cli_env, "billing", "balance", org, "--limit", "1000")
        balance = float(head["balance"])
        assert balance <= 0
        usage = [e for e in entries if e["kind"] == "usage"]
        assert usage
        assert all(e["conversationId"] == cid for e in usage)
        spent = -sum(float(e["amount"]) for e in usage)
        assert spent == pytest.approx(2.0 - balance)
        assert spent < 20  # paused long before its run ended

        by_model = server.http.get("/api/usage", params={"by": "model"}).json()
        [row] = by_model["items"]
        assert row["model"] == "openai/gpt-4o"
        assert float(row["billed"]) == pytest.approx(spent)

        blocked = server.http.post("/api/conversations", json={"message": "More"})
        assert blocked.status_code == 402, blocked.text
        message = server.http.post(f"/api/conversations/{cid}/messages", json={"text": "on"})
        assert message.status_code == 402, message.text

        _cli(cli_env, "billing", "adjust", org, "5.00", "top-up")
        resumed = _eventually(
            lambda: _conversation(server, cid), lambda c: c["status"] == "finished"
        )
        assert resumed["status"] == "finished", resumed
        assert resumed["statusReason"] is None

        own_key = server.http.post("/api/settings", json={"llmApiKey": "sk-mine"})
        assert own_key.status_code == 200, own_key.text
        [before] = _cli(cli_env, "billing", "balance", org, "--limit", "1")[:1]
        mine_paid = server.http.post("/api/conversations", json={"message": "/spend 1 2"})
        assert mine_paid.status_code == 201, mine_paid.text
        _eventually(
            lambda: _conversation(server, mine_paid.json()["id"]),
            lambda c: c["status"] == "finished",
        )
        [after] = _cli(cli_env, "billing", "balance", org, "--limit", "1")[:1]
        assert after["balance"] == before["balance"]
