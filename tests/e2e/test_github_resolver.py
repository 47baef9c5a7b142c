"""The GitHub resolver through the production server (``maestrist serve``) on the scripted
runtime, against the loopback GitHub: a signed mention on an issue starts one conversation,
which the thread hears of (eyes, "on it" with a link, then the summary); a forged delivery, a
duplicate, a sender without write access, a sender without an account here and the app's own
comment each do what they must, and nothing is done twice."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.ioc.runtime import SCRIPTED_DEMO_ANSWER
from tests.conftest import REDIS_URL
from tests.e2e.test_cli import run
from tests.e2e.test_clustered_conversation import _api_token
from tests.e2e.test_server import (
    RunningServer,
    clustered,
    kill_group,
    running_server,
    server_env,
)
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.support.github_examples import github_example, signed_example
from tests.support.webhooks import GITHUB_SECRET

pytestmark = pytest.mark.server

REPO = "acme/widgets"
INSTALLATION = 4242


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("acme", organization=True, members={"ada"})
        fake.add_user("ada", name="Ada Lovelace")
        fake.add_user("mallory")
        fake.add_user("bob")
        fake.add_installation(INSTALLATION, "acme", members={"ada"})
        fake.add_repo(REPO, members={"ada", "bob"}, installation_id=INSTALLATION)
        yield fake


def _wait(condition: Any, what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came to be")
        time.sleep(0.1)


def _comment(
    github: FakeGitHub, login: str, number: int, body: str, *, as_bot: str | None = None
) -> dict[str, Any]:
    payload = github_example("issue_comment", "created", installation=INSTALLATION)
    account = github.account(login)
    payload["repository"]["full_name"] = REPO
    payload["issue"]["number"] = number
    payload["issue"]["title"] = f"Issue {number}"
    payload["issue"]["body"] = "The widget crashes on start."
    payload["issue"].pop("pull_request", None)
    payload["comment"]["id"] = 9000 + number
    payload["comment"]["body"] = body
    payload["sender"] = {
        **payload["sender"],
        "login": login,
        "id": account.id_ if account is not None else 1,
        "type": "User",
    }
    if as_bot is not None:
        payload["sender"].update(login=as_bot, type="Bot")
    return payload


def _deliver(
    server: RunningServer, payload: dict[str, Any], delivery_id: str, event: str = "issue_comment"
) -> int:
    body, headers = signed_example(
        payload, event=event, secret=GITHUB_SECRET, delivery_id=delivery_id
    )
    return server.http.post("/api/webhooks/github", content=body, headers=headers).status_code


def _app_settings(github: FakeGitHub) -> dict[str, str]:
    pem = github.register_app(app_id="4711", slug="maestrist")
    return {
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_GITHUB_URL": github.base_url,
        "MAESTRIST_GITHUB_WEBHOOK_SECRETS": GITHUB_SECRET,
        "MAESTRIST_GITHUB_APP_ID": "4711",
        "MAESTRIST_GITHUB_APP_SLUG": "maestrist",
        "MAESTRIST_GITHUB_APP_PRIVATE_KEY": pem.replace("\n", "\\n"),
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
    }


def _cli(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = run(env, *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_mention_on_an_issue_is_answered_once_and_the_wrong_ones_are_not(
    tmp_path: Path, github: FakeGitHub
) -> None:
    settings = {"MAESTRIST_DATA_DIR": str(tmp_path / "data"), **_app_settings(github)}
    env = server_env(settings)
    app = github.github_app
    assert app is not None
    with running_server(tmp_path / "server.log", settings) as server:
        http = server.http
        configured = http.post(
            "/api/settings", json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"}
        )
        assert configured.status_code == 200, configured.text
        connected = http.put(
            "/api/user/git-providers/github", json={"token": github.issue_token("ada")}
        )
        assert connected.status_code == 200, connected.text
        linked = http.put(f"/api/integrations/github/installations/{INSTALLATION}")
        assert linked.status_code == 200, linked.text
        assert linked.json()["account"] == "acme"

        forged_body, forged = signed_example(
            _comment(github, "ada", 11, "@openhands fix"),
            event="issue_comment",
            secret="not-the-secret-of-this-app",
        )
        refused = http.post("/api/webhooks/github", content=forged_body, headers=forged)
        assert refused.status_code == 401

        mention = _comment(github, "ada", 12, "@openhands please fix the crash")
        assert _deliver(server, mention, "d-main") in {200, 202}

        def answered() -> bool:
            return len(app.comments_on(REPO, 12)) >= 2

        _wait(answered, "the summary on issue 12")
        on_it, summary = app.comments_on(REPO, 12)
        found = http.get("/api/conversations", params={"trigger": "github"}).json()["items"]
        assert len(found) == 1
        conversation = found[0]
        assert conversation["trigger"] == "github"
        assert conversation["repository"] == REPO
        assert conversation["originUrl"] == f"{github.base_url}/{REPO}/issues/12"
        assert f"/conversations/{conversation['id']}" in on_it
        assert on_it.startswith("I'm on it!")
        assert summary.startswith(SCRIPTED_DEMO_ANSWER)  # what the agent last said
        assert f"/conversations/{conversation['id']}" in summary
        assert [(r.subject, r.content) for r in app.reactions] == [("issue-comment:9012", "eyes")]
        web = http.get("/api/conversations", params={"trigger": "web"}).json()["items"]
        assert web == []

        assert _deliver(server, mention, "d-main") in {200, 202}  # the same delivery again
        stranger = _comment(github, "mallory", 13, "@openhands delete everything")
        assert _deliver(server, stranger, "d-mallory") in {200, 202}
        unknown = _comment(github, "bob", 14, "@openhands fix the docs")
        assert _deliver(server, unknown, "d-bob") in {200, 202}
        own = _comment(github, "ada", 15, "@openhands I'm on it!", as_bot="maestrist[bot]")
        assert _deliver(server, own, "d-own") in {200, 202}

        def settled() -> bool:
            processed = _cli(env, "webhooks", "list", "--state", "processed")
            done = _cli(env, "jobs", "list", "--kind", "resolver.trigger", "--status", "done")
            return len(processed) == 4 and len(done) == 3

        _wait(settled, "every delivery processed and every trigger answered")
        outcomes = {
            d["deliveryId"]: d["outcome"]
            for d in _cli(env, "webhooks", "list", "--source", "github")
        }
        assert outcomes == {
            "d-main": "mention trigger queued",
            "d-mallory": "mention trigger queued",
            "d-bob": "mention trigger queued",
            "d-own": "ignored: no trigger",
        }
        assert app.comments_on(REPO, 13) == []
        (sign_in,) = app.comments_on(REPO, 14)
        assert sign_in.startswith("@bob ")
        assert f"{server.base_url}/api/auth/login" in sign_in
        assert app.comments_on(REPO, 15) == []
        assert app.comments_on(REPO, 12) == [on_it, summary]
        assert sorted(r.subject for r in app.reactions) == [
            "issue-comment:9012",
            "issue-comment:9014",
        ]
        everything = http.get("/api/conversations").json()["items"]
        assert [c["id"] for c in everything] == [conversation["id"]]
        assert app.minted == 1

        follow_up = _comment(github, "ada", 12, "@openhands also add a test")
        follow_up["comment"]["id"] = 9112
        assert _deliver(server, follow_up, "d-follow-up") in {200, 202}
        _wait(lambda: len(app.comments_on(REPO, 12)) >= 3, "the follow-up's summary")
        assert app.comments_on(REPO, 12)[2].startswith(SCRIPTED_DEMO_ANSWER)
        again = http.get("/api/conversations").json()["items"]
        assert [c["id"] for c in again] == [conversation["id"]]
        events = http.get(
            f"/api/conversations/{conversation['id']}/events", params={"limit": 1000}
        ).text
        assert "also add a test" in events

        github.add_pull_request(REPO, 20, head_ref="fix/crash")
        labeled = github_example("pull_request", "labeled", installation=INSTALLATION)
        labeled["repository"]["full_name"] = REPO
        labeled["pull_request"]["number"] = 20
        labeled["label"]["name"] = "openhands"
        ada = github.account("ada")
        assert ada is not None
        labeled["sender"] = {**labeled["sender"], "login": "ada", "id": ada.id_}
        assert _deliver(server, labeled, "d-pull", event="pull_request") in {200, 202}
        _wait(lambda: len(app.comments_on(REPO, 20)) >= 2, "the pull request's summary")
        on_pull = http.get("/api/conversations", params={"trigger": "github"}).json()["items"]
        assert len(on_pull) == 2
        newest = on_pull[0]
        assert newest["branch"] == "fix/crash"
        assert newest["originUrl"] == f"{github.base_url}/{REPO}/pull/20"
        assert ("issue:20", "eyes") in [(r.subject, r.content) for r in app.reactions]


@pytest.mark.postgres
@pytest.mark.redis
def test_two_clustered_servers_answer_two_issues_with_one_installation_token(
    tmp_path: Path, postgres_url: str, github: FakeGitHub
) -> None:
    api_token = asyncio.run(_api_token(postgres_url))
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        **_app_settings(github),
        "MAESTRIST_DEPENDENCY_TIMEOUT": "5",
    }
    auth = {"Authorization": f"Bearer {api_token}"}
    app = github.github_app
    assert app is not None
    with (
        running_server(tmp_path / "first.log", settings) as first,
        running_server(tmp_path / "second.log", settings) as second,
    ):
        configured = first.http.post(
            "/api/settings",
            json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"},
            headers=auth,
        )
        assert configured.status_code == 200, configured.text
        connected = first.http.put(
            "/api/user/git-providers/github",
            json={"token": github.issue_token("ada")},
            headers=auth,
        )
        assert connected.status_code == 200, connected.text
        linked = second.http.put(
            f"/api/integrations/github/installations/{INSTALLATION}", headers=auth
        )
        assert linked.status_code == 200, linked.text
        statuses: list[int] = []
        deliveries = [
            threading.Thread(
                target=lambda server=server, number=number: statuses.append(
                    _deliver(
                        server, _comment(github, "ada", number, "@openhands go"), f"d-{number}"
                    )
                )
            )
            for server, number in ((first, 21), (second, 22))
        ]
        for delivery in deliveries:
            delivery.start()
        for delivery in deliveries:
            delivery.join()
        assert sorted(statuses) == [202, 202]
        _wait(
            lambda: all(len(app.comments_on(REPO, n)) >= 2 for n in (21, 22)),
            "both summaries",
        )
        for number in (21, 22):
            on_it, summary = app.comments_on(REPO, number)
            assert on_it.startswith("I'm on it!")
            assert summary.startswith(SCRIPTED_DEMO_ANSWER)
        listed = first.http.get(
            "/api/conversations", params={"trigger": "github"}, headers=auth
        ).json()["items"]
        assert sorted(c["originUrl"] for c in listed) == [
            f"{github.base_url}/{REPO}/issues/{n}" for n in (21, 22)
        ]
        assert app.minted == 1


def test_a_server_killed_while_answering_a_mention_does_nothing_twice(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """``maestrist serve`` is killed (SIGKILL) while its job answering a mention waits on
    GitHub for the "on it" comment, after the reaction and the conversation's start: started
    again, once the job's claim runs out the trigger is answered again, and the thread ends up
    with one reaction, one "on it", one summary (of the run, or of a start the kill cut short),
    and the organization with one conversation."""
    settings = {
        "MAESTRIST_DATA_DIR": str(tmp_path / "data"),
        **_app_settings(github),
        # The kill may cut the conversation's start short: the server started again fails it
        # once past its bound (this timeout and as long again), and the thread hears of that.
        "MAESTRIST_CONVERSATION_START_TIMEOUT": "20",
    }
    env = server_env(settings)
    app = github.github_app
    assert app is not None
    with running_server(tmp_path / "first.log", settings) as server:
        http = server.http
        configured = http.post(
            "/api/settings", json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-not-real"}
        )
        assert configured.status_code == 200, configured.text
        connected = http.put(
            "/api/user/git-providers/github", json={"token": github.issue_token("ada")}
        )
        assert connected.status_code == 200, connected.text
        assert http.put(f"/api/integrations/github/installations/{INSTALLATION}").is_success
        held = app.hold_next_comment()
        try:
            mention = _comment(github, "ada", 12, "@openhands please fix the crash")
            assert _deliver(server, mention, "d-killed") in {200, 202}
            assert held.reached.wait(timeout=120), "the answer never got to its comment"
            kill_group(server.process)
        finally:
            held.released.set()
        port = server.port
    assert not any(c.startswith("I'm on it!") for c in app.comments_on(REPO, 12))

    with running_server(tmp_path / "second.log", settings, port=port) as restarted:
        _wait(
            lambda: len(app.comments_on(REPO, 12)) >= 2,
            "the answer given again once the claim ran out",
            timeout_s=400,
        )
        [answered] = _cli(env, "jobs", "list", "--kind", "resolver.trigger")
        assert (answered["status"], answered["attempts"]) == ("done", 2)
        comments = app.comments_on(REPO, 12)
        assert len(comments) == 2
        assert sum(c.startswith("I'm on it!") for c in comments) == 1
        assert [(r.subject, r.content) for r in app.reactions] == [("issue-comment:9012", "eyes")]
        everything = restarted.http.get("/api/conversations").json()["items"]
        assert len(everything) == 1
        assert all(f"/conversations/{everything[0]['id']}" in c for c in comments)
        assert app.minted == 1
