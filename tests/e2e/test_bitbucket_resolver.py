"""The Bitbucket Cloud resolver through the production server (``maestrist serve``) on the
scripted runtime, against the loopback Bitbucket: an organization's admin enables a
repository whose webhook they register by hand with the secret answered once; a pull request
comment mentioning the agent, signed with it, starts one conversation on the pull request's
branch as its writer, which the thread hears of ("on it" with a link, then the summary),
written with the admin's token. A forged signature, a redelivery, a writer with read access
only, a writer without an account here and the admin's own comment each do what they
must."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.ioc.runtime import SCRIPTED_DEMO_ANSWER
from tests.conftest import REDIS_URL
from tests.e2e.test_gitlab_resolver import _cli, _ok, _team, _wait
from tests.e2e.test_server import RunningServer, clustered, running_server, server_env
from tests.fakes.git_hosts import FakeBitbucket, run_fake_bitbucket
from tests.support.repository_webhooks import bitbucket_delivery, bitbucket_example

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

REPO = "acme/widgets"
EVENT = "pullrequest:comment_created"


@pytest.fixture
def bitbucket() -> Iterator[FakeBitbucket]:
    with run_fake_bitbucket() as fake:
        for login in ("ada", "bob", "rita", "carol"):
            fake.add_user(login, name=login.capitalize())
        fake.add_repo(REPO, members={"ada", "bob", "rita", "carol"}, branches=["main", "fix/crash"])
        fake.set_permission(REPO, "ada", "admin")
        fake.set_permission(REPO, "rita", "read")
        for number in (3, 4, 5, 6, 7):
            fake.add_pull_request(REPO, number, source_branch="fix/crash")
        yield fake


def _comment(
    bitbucket: FakeBitbucket, login: str, number: int, text: str, comment_id: int
) -> dict[str, Any]:
    payload = bitbucket_example("pullrequest_comment_created")
    account = bitbucket.account(login)
    assert account is not None
    payload["actor"].update(
        uuid=f"{{account-{account.id_}}}", nickname=login, display_name=account.name
    )
    payload["repository"].update(full_name=REPO, name="widgets")
    payload["repository"]["links"]["html"]["href"] = f"{bitbucket.base_url}/{REPO}"
    payload["pullrequest"].update(id=number, title=f"Pull request {number}")
    payload["comment"].update(id=comment_id)
    payload["comment"]["content"]["raw"] = text
    return payload


def _deliver(server: RunningServer, payload: dict[str, Any], secret: str, request: str) -> int:
    body, headers = bitbucket_delivery(payload, event=EVENT, secret=secret, request_uuid=request)
    return server.http.post("/api/webhooks/bitbucket", content=body, headers=headers).status_code


def test_a_mention_in_a_bitbucket_pull_request_comment_is_answered_once(
    tmp_path: Path, postgres_url: str, bitbucket: FakeBitbucket
) -> None:
    team = asyncio.run(_team(postgres_url))
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_BITBUCKET_URL": bitbucket.base_url,
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
    }
    env = server_env(settings)
    threads = bitbucket.threads
    with running_server(tmp_path / "server.log", settings) as server:
        http = server.http
        _ok(
            http.post(
                f"/api/orgs/{team.org_id}/settings",
                json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"},
                headers=team.admin,
            )
        )
        for login, auth in (("ada", team.admin), ("bob", team.member)):
            _ok(
                http.put(
                    "/api/user/git-providers/bitbucket",
                    json={"token": bitbucket.issue_token(login)},
                    headers=auth,
                )
            )
        enabled = _ok(
            http.post(
                f"/api/orgs/{team.org_id}/resolver/repositories",
                json={"provider": "bitbucket", "repository": REPO, "install": False},
                headers=team.admin,
            ),
            201,
        )
        secret = enabled["secret"]
        assert isinstance(secret, str)
        assert len(secret) >= 32
        assert enabled["webhookUrl"] == f"{server.base_url}/api/webhooks/bitbucket"
        listed = _ok(http.get(f"/api/orgs/{team.org_id}/resolver/repositories", headers=team.admin))
        assert [(r["repository"], r["secret"]) for r in listed["items"]] == [(REPO, None)]

        forged = _comment(bitbucket, "bob", 6, "@openhands fix", 106)
        assert _deliver(server, forged, "not-the-webhooks-secret", "r-forged") == 401

        mention = _comment(bitbucket, "bob", 3, "@openhands please fix the build", 103)
        assert _deliver(server, mention, secret, "r-main") == 202
        _wait(lambda: len(threads.comments_on(REPO, 3, pull=True)) >= 2, "the summary on #3")
        on_it, summary = threads.comments_on(REPO, 3, pull=True)
        found = _ok(
            http.get("/api/conversations", params={"trigger": "bitbucket"}, headers=team.member)
        )["items"]
        assert len(found) == 1
        conversation = found[0]
        assert conversation["trigger"] == "bitbucket"
        assert conversation["branch"] == "fix/crash"
        assert conversation["originUrl"] == f"{bitbucket.base_url}/{REPO}/pull-requests/3"
        assert on_it.startswith("I'm on it!")
        assert f"/conversations/{conversation['id']}" in on_it
        assert summary.startswith(SCRIPTED_DEMO_ANSWER)
        assert {c.author for c in threads.comments} == {"ada"}

        assert _deliver(server, mention, secret, "r-main") == 202  # redelivered
        reader = _comment(bitbucket, "rita", 4, "@openhands delete everything", 104)
        assert _deliver(server, reader, secret, "r-rita") == 202
        own = _comment(bitbucket, "ada", 5, "@openhands I'm on it!", 105)
        assert _deliver(server, own, secret, "r-own") == 202
        stranger = _comment(bitbucket, "carol", 7, "@openhands fix the docs", 107)
        assert _deliver(server, stranger, secret, "r-carol") == 202

        def settled() -> bool:
            processed = _cli(
                env, "webhooks", "list", "--source", "bitbucket", "--state", "processed"
            )
            done = _cli(env, "jobs", "list", "--kind", "resolver.trigger", "--status", "done")
            return len(processed) == 4 and len(done) == 3

        _wait(settled, "every delivery processed and every trigger answered")
        outcomes = {
            d["deliveryId"]: d["outcome"]
            for d in _cli(env, "webhooks", "list", "--source", "bitbucket")
        }
        assert outcomes == {
            "r-main": "mention trigger queued",
            "r-rita": "mention trigger queued",
            "r-own": "ignored: no trigger",
            "r-carol": "mention trigger queued",
        }
        (sign_in,) = threads.comments_on(REPO, 7, pull=True)
        assert sign_in.startswith("@carol ")
        assert f"{server.base_url}/api/auth/login" in sign_in
        assert threads.comments_on(REPO, 4, pull=True) == []
        assert threads.comments_on(REPO, 5, pull=True) == []
        assert threads.comments_on(REPO, 3, pull=True) == [on_it, summary]
        everything = _ok(http.get("/api/conversations", headers=team.member))["items"]
        assert [c["id"] for c in everything] == [conversation["id"]]
        assert json.dumps(listed).count(secret) == 0
