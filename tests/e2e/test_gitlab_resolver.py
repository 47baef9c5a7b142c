"""The GitLab resolver through the production server (``maestrist serve``) on the scripted
runtime, against the loopback GitLab: an organization's admin enables a project, a job
installs its webhook with a secret of its own; a note mentioning the agent, delivered with
that token, starts one conversation as its writer, which the thread hears of (eyes, "on it"
with a link, then the summary), written with the admin's token. A forged token, a
redelivery, a writer without Developer access, one without an account here and the admin's
own note each do what they must; a disabled project's hook is removed and refused."""

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.sqlalchemy import SqlaApiKeyRepository
from domain.identity.scopes import ALL_SCOPES
from domain.organizations.entities import Membership, Role
from entrypoints.ioc.runtime import SCRIPTED_DEMO_ANSWER
from tests.conftest import REDIS_URL
from tests.db import add_user, sqla_ports
from tests.e2e.test_cli import run
from tests.e2e.test_server import RunningServer, clustered, running_server, server_env
from tests.factories import T0, create_api_key, create_org
from tests.fakes.git_hosts import FakeGitLab, run_fake_gitlab
from tests.support.repository_webhooks import gitlab_delivery, gitlab_example

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

REPO = "acme/widgets"


@dataclass(frozen=True)
class Team:
    org_id: str
    admin: dict[str, str]
    """ada's credentials: the organization's owner, who enables the project."""
    member: dict[str, str]
    """bob's: a member, who asks the agent."""


async def _team(url: str) -> Team:
    ada, bob = await add_user(url, "sub-ada"), await add_user(url, "sub-bob")
    org, founder = create_org(ada, "Acme")
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.orgs.add(org, founder)
        await ports.orgs.add_member(
            Membership(org_id=org.id_, user_id=bob.id_, role=Role.MEMBER, joined_at=T0)
        )
        tokens = []
        for user in (ada, bob):
            key, token = create_api_key(user, org.id_, scopes=ALL_SCOPES, expires_at=None)
            assert isinstance(ports.api_keys, SqlaApiKeyRepository)
            await ports.api_keys.add(key)
            tokens.append({"Authorization": f"Bearer {token}"})
        await ports.uow.commit()
    return Team(str(org.id_), *tokens)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with run_fake_gitlab() as fake:
        for login in ("ada", "bob", "carol", "rita"):
            fake.add_user(login, name=login.capitalize())
        fake.add_repo(REPO, members={"ada", "bob", "carol", "rita"}, branches=["main", "fix/crash"])
        fake.add_merge_request(REPO, 20, source_branch="fix/crash")
        fake.make_maintainer(REPO, "ada")
        fake.set_access_level(REPO, "rita", 20)  # Reporter: may not ask the agent
        yield fake


def _wait(condition: Any, what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came to be")
        time.sleep(0.1)


def _note(gitlab: FakeGitLab, login: str, iid: int, text: str, note_id: int) -> dict[str, Any]:
    payload = gitlab_example("note_issue")
    account = gitlab.account(login)
    assert account is not None
    payload["project"].update(
        path_with_namespace=REPO, web_url=f"{gitlab.base_url}/{REPO}", id=gitlab.repo(REPO).id_
    )
    payload["issue"].update(iid=iid, title=f"Issue {iid}", description="The widget crashes.")
    payload["object_attributes"].update(id=note_id, note=text)
    payload["user"].update(id=account.id_, username=login, name=account.name)
    return payload


def _deliver(
    server: RunningServer, payload: dict[str, Any], token: str, key: str, event_uuid: str
) -> int:
    body, headers = gitlab_delivery(
        payload, token=token, idempotency_key=key, event_uuid=event_uuid
    )
    return server.http.post("/api/webhooks/gitlab", content=body, headers=headers).status_code


def _cli(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = run(env, *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_a_mention_in_a_gitlab_note_is_answered_once_and_the_wrong_ones_are_not(
    tmp_path: Path, postgres_url: str, gitlab: FakeGitLab
) -> None:
    team = asyncio.run(_team(postgres_url))
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_RUNTIME": "scripted",
        "MAESTRIST_GITLAB_URL": gitlab.base_url,
        "MAESTRIST_JOBS_POLL_INTERVAL": "0.2",
    }
    env = server_env(settings)
    threads = gitlab.threads
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
                    "/api/user/git-providers/gitlab",
                    json={"token": gitlab.issue_token(login)},
                    headers=auth,
                )
            )
        refused = http.post(
            f"/api/orgs/{team.org_id}/resolver/repositories",
            json={"provider": "gitlab", "repository": REPO},
            headers=team.member,
        )
        assert refused.status_code == 403, refused.text
        enabled = _ok(
            http.post(
                f"/api/orgs/{team.org_id}/resolver/repositories",
                json={"provider": "gitlab", "repository": REPO},
                headers=team.admin,
            ),
            201,
        )
        assert enabled["secret"] is None  # installed by the server: never shown
        assert enabled["webhookUrl"] == f"{server.base_url}/api/webhooks/gitlab"
        _wait(lambda: threads.hook_on(REPO) is not None, "the project's webhook")
        hook = threads.hook_on(REPO)
        assert hook is not None
        assert hook.url == enabled["webhookUrl"]
        assert hook.events["note_events"]
        assert hook.events["issues_events"]
        listed = _ok(http.get(f"/api/orgs/{team.org_id}/resolver/repositories", headers=team.admin))
        assert [(r["repository"], r["installed"]) for r in listed["items"]] == [(REPO, True)]

        forged = _note(gitlab, "bob", 11, "@openhands fix", 9011)
        assert _deliver(server, forged, "not-the-hooks-token", "k-forged", "u-forged") == 401

        mention = _note(gitlab, "bob", 12, "@openhands please fix the crash", 9012)
        assert _deliver(server, mention, hook.token, "k-main", "u-main") == 202
        _wait(lambda: len(threads.notes_on(REPO, 12)) >= 2, "the summary on issue 12")
        on_it, summary = threads.notes_on(REPO, 12)
        found = _ok(
            http.get("/api/conversations", params={"trigger": "gitlab"}, headers=team.member)
        )["items"]
        assert len(found) == 1
        conversation = found[0]
        assert conversation["trigger"] == "gitlab"
        assert conversation["repository"] == REPO
        assert conversation["originUrl"] == f"{gitlab.base_url}/{REPO}/-/issues/12"
        assert on_it.startswith("I'm on it!")
        assert f"/conversations/{conversation['id']}" in on_it
        assert summary.startswith(SCRIPTED_DEMO_ANSWER)
        assert {n.author for n in threads.notes} == {"ada"}  # written with the admin's token
        assert [(a.subject, a.name) for a in threads.awards] == [("note:9012", "eyes")]

        # GitLab retries with the same Idempotency-Key and a new event UUID
        assert _deliver(server, mention, hook.token, "k-main", "u-retry") == 202
        reporter = _note(gitlab, "rita", 13, "@openhands delete everything", 9013)
        assert _deliver(server, reporter, hook.token, "k-rita", "u-rita") == 202
        stranger = _note(gitlab, "carol", 14, "@openhands fix the docs", 9014)
        assert _deliver(server, stranger, hook.token, "k-carol", "u-carol") == 202
        own = _note(gitlab, "ada", 15, "@openhands I'm on it!", 9015)
        assert _deliver(server, own, hook.token, "k-own", "u-own") == 202

        def settled() -> bool:
            processed = _cli(env, "webhooks", "list", "--source", "gitlab", "--state", "processed")
            done = _cli(env, "jobs", "list", "--kind", "resolver.trigger", "--status", "done")
            return len(processed) == 4 and len(done) == 3

        _wait(settled, "every delivery processed and every trigger answered")
        outcomes = {
            d["deliveryId"]: d["outcome"]
            for d in _cli(env, "webhooks", "list", "--source", "gitlab")
        }
        assert outcomes == {
            "k-main": "mention trigger queued",
            "k-rita": "mention trigger queued",
            "k-carol": "mention trigger queued",
            "k-own": "ignored: no trigger",
        }
        assert threads.notes_on(REPO, 13) == []
        (sign_in,) = threads.notes_on(REPO, 14)
        assert sign_in.startswith("@carol ")
        assert f"{server.base_url}/api/auth/login" in sign_in
        assert threads.notes_on(REPO, 15) == []
        assert threads.notes_on(REPO, 12) == [on_it, summary]
        assert sorted(a.subject for a in threads.awards) == ["note:9012", "note:9014"]
        everything = _ok(http.get("/api/conversations", headers=team.member))["items"]
        assert [c["id"] for c in everything] == [conversation["id"]]

        labeled = gitlab_example("merge_request_labeled")
        bob = gitlab.account("bob")
        assert bob is not None
        labeled["project"].update(path_with_namespace=REPO, web_url=f"{gitlab.base_url}/{REPO}")
        labeled["object_attributes"].update(iid=20, title="Fix the crash")
        labeled["changes"]["labels"]["current"][0]["title"] = "openhands"
        labeled["user"].update(id=bob.id_, username="bob")
        assert _deliver(server, labeled, hook.token, "k-merge", "u-merge") == 202
        _wait(
            lambda: len(threads.notes_on(REPO, 20, merge_request=True)) >= 2,
            "the merge request's summary",
        )
        on_merge = _ok(
            http.get("/api/conversations", params={"trigger": "gitlab"}, headers=team.member)
        )["items"]
        assert len(on_merge) == 2
        assert on_merge[0]["branch"] == "fix/crash"
        assert on_merge[0]["originUrl"] == f"{gitlab.base_url}/{REPO}/-/merge_requests/20"
        assert ("merge_request:20", "eyes") in [(a.subject, a.name) for a in threads.awards]

        gitlab.add_merge_request(REPO, 21, source_branch="fix/docs")
        on_note = gitlab_example("note_merge_request")
        on_note["project"].update(
            path_with_namespace=REPO, web_url=f"{gitlab.base_url}/{REPO}", id=gitlab.repo(REPO).id_
        )
        on_note["merge_request"].update(iid=21, title="Fix the docs", source_branch="fix/docs")
        on_note["object_attributes"].update(id=9021, note="@openhands please review this")
        on_note["user"].update(id=bob.id_, username="bob", name=bob.name)
        assert _deliver(server, on_note, hook.token, "k-mr-note", "u-mr-note") == 202
        assert _deliver(server, on_note, hook.token, "k-mr-note", "u-mr-note") == 202
        _wait(
            lambda: len(threads.notes_on(REPO, 21, merge_request=True)) >= 2,
            "the summary on merge request 21",
        )
        mr_on_it, mr_summary = threads.notes_on(REPO, 21, merge_request=True)
        assert mr_on_it.startswith("I'm on it!")
        assert mr_summary.startswith(SCRIPTED_DEMO_ANSWER)
        on_note_conversations = _ok(
            http.get("/api/conversations", params={"trigger": "gitlab"}, headers=team.member)
        )["items"]
        assert len(on_note_conversations) == 3
        assert on_note_conversations[0]["branch"] == "fix/docs"
        assert (
            on_note_conversations[0]["originUrl"] == f"{gitlab.base_url}/{REPO}/-/merge_requests/21"
        )

        disabled = http.delete(
            f"/api/orgs/{team.org_id}/resolver/repositories/{enabled['id']}", headers=team.admin
        )
        assert disabled.status_code == 204, disabled.text
        _wait(lambda: threads.hook_on(REPO) is None, "the webhook's removal")
        assert threads.removed_hooks == [hook.id_]
        late = _note(gitlab, "bob", 16, "@openhands one more", 9016)
        assert _deliver(server, late, hook.token, "k-late", "u-late") == 401
