"""The resolver settings an organization's admins control, over HTTP: the repositories enabled
at GitLab and Bitbucket (a secret shown once for one registered by hand, never again), the
label, handle and cap of runs per repository; members are refused, another organization's
admins find nothing, bad input is a problem document naming the field, and each change is
audited."""

from collections.abc import AsyncIterator, Iterator

import pytest

from domain.organizations.entities import Membership, OrgId, Role
from tests.conftest import clustered_settings
from tests.db import add_user, sqla_ports
from tests.factories import T0, create_org
from tests.fakes.git_hosts import FakeGitLab, run_fake_gitlab
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve

pytestmark = pytest.mark.postgres


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with run_fake_gitlab() as fake:
        for login in ("ada", "bob", "eve"):
            fake.add_user(login)
        yield fake


@pytest.fixture
async def app(postgres_url: str, gitlab: FakeGitLab) -> AsyncIterator[Client]:
    base = clustered_settings(postgres_url)
    settings = base.with_changes(git=base.git.with_changes(gitlab_url=gitlab.base_url))
    async with serve(settings, BearerSubjectAuth()) as client:
        yield client


async def _teams(postgres_url: str) -> tuple[OrgId, OrgId]:
    """A team ada owns and bob is a member of, and another that eve owns."""
    ada = await add_user(postgres_url, "sub-ada")
    bob = await add_user(postgres_url, "sub-bob")
    eve = await add_user(postgres_url, "sub-eve")
    org, founder = create_org(ada, "Acme")
    other, other_founder = create_org(eve, "Evil")
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        await ports.orgs.add(org, founder)
        await ports.orgs.add(other, other_founder)
        await ports.orgs.add_member(
            Membership(org_id=org.id_, user_id=bob.id_, role=Role.MEMBER, joined_at=T0)
        )
        await ports.uow.commit()
    return org.id_, other.id_


async def _audited(postgres_url: str, org_id: OrgId) -> list[str]:
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        events = await ports.uow.audit.list_for_org(org_id, limit=50)
    return sorted(str(e.action) for e in events if str(e.action).startswith("resolver."))


async def _connect(app: Client, gitlab: FakeGitLab, login: str) -> None:
    connected = await app.put(
        "/api/user/git-providers/gitlab",
        json={"token": gitlab.issue_token(login)},
        headers=bearer(f"sub-{login}"),
    )
    assert connected.status_code == 200, connected.text


async def test_an_admin_enables_lists_and_disables_repositories(
    app: Client, gitlab: FakeGitLab, postgres_url: str
) -> None:
    team, _ = await _teams(postgres_url)
    repos = f"/api/orgs/{team}/resolver/repositories"
    ada = bearer("sub-ada")
    not_connected = await app.post(
        repos, json={"provider": "gitlab", "repository": "a/b"}, headers=ada
    )
    assert not_connected.status_code == 404
    assert not_connected.json()["code"] == "git-provider-not-connected"
    await _connect(app, gitlab, "ada")
    by_hand = await app.post(
        repos,
        json={"provider": "gitlab", "repository": "acme/platform/widgets", "install": False},
        headers=ada,
    )
    assert by_hand.status_code == 201, by_hand.text
    created = by_hand.json()
    assert len(created["secret"]) >= 32
    assert created["managed"] is False
    assert created["webUrl"] == gitlab.base_url
    again = await app.post(
        repos, json={"provider": "gitlab", "repository": "ACME/platform/widgets"}, headers=ada
    )
    assert again.status_code == 409
    assert again.json()["code"] == "resolver-repository-taken"
    listed = (await app.get(repos, headers=ada)).json()["items"]
    assert [(r["id"], r["repository"], r["secret"]) for r in listed] == [
        (created["id"], "acme/platform/widgets", None)
    ]
    gone = await app.delete(f"{repos}/{created['id']}", headers=ada)
    assert gone.status_code == 204
    assert (await app.get(repos, headers=ada)).json()["items"] == []
    missing = await app.delete(f"{repos}/{created['id']}", headers=ada)
    assert missing.status_code == 404
    assert await _audited(postgres_url, team) == [
        "resolver.repository_disabled",
        "resolver.repository_enabled",
    ]


async def test_members_and_other_organizations_are_refused(
    app: Client, gitlab: FakeGitLab, postgres_url: str
) -> None:
    team, other = await _teams(postgres_url)
    for login in ("ada", "bob", "eve"):
        await _connect(app, gitlab, login)
    repos = f"/api/orgs/{team}/resolver/repositories"
    enabled = await app.post(
        repos, json={"provider": "gitlab", "repository": "acme/widgets"}, headers=bearer("sub-ada")
    )
    assert enabled.status_code == 201
    hook_id = enabled.json()["id"]
    member = await app.get(repos, headers=bearer("sub-bob"))
    assert member.status_code == 403
    assert member.json()["code"] == "not-an-org-admin"
    assert (
        await app.get(f"/api/orgs/{team}/resolver/settings", headers=bearer("sub-bob"))
    ).status_code == 403
    for path in (repos, f"/api/orgs/{team}/resolver/settings"):
        stranger = await app.get(path, headers=bearer("sub-eve"))
        assert stranger.status_code == 404
    theirs = await app.delete(
        f"/api/orgs/{other}/resolver/repositories/{hook_id}", headers=bearer("sub-eve")
    )
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "resolver-repository-not-found"
    still = (await app.get(repos, headers=bearer("sub-ada"))).json()["items"]
    assert [r["id"] for r in still] == [hook_id]


async def test_bad_input_is_a_problem_naming_the_field(
    app: Client, gitlab: FakeGitLab, postgres_url: str
) -> None:
    team, _ = await _teams(postgres_url)
    await _connect(app, gitlab, "ada")
    ada = bearer("sub-ada")
    repos = f"/api/orgs/{team}/resolver/repositories"
    for body, field in (
        ({"provider": "github", "repository": "a/b"}, "provider"),
        ({"provider": "svn", "repository": "a/b"}, "provider"),
        ({"provider": "gitlab", "repository": "no-slash"}, "repository"),
        ({"provider": "gitlab", "repository": "a/../b"}, "repository"),
        ({"provider": "bitbucket", "repository": "a/b/c"}, "repository"),
        ({"provider": "gitlab"}, "repository"),
        ({"provider": "gitlab", "repository": "a/b", "extra": 1}, "extra"),
    ):
        refused = await app.post(repos, json=body, headers=ada)
        assert refused.status_code in {400, 422}, (body, refused.text)
        problem = refused.json()
        named = {e.get("field") for e in problem.get("errors", [])} | {problem.get("field")}
        assert any(str(n or "").endswith(field) for n in named), (body, problem)
    settings = f"/api/orgs/{team}/resolver/settings"
    changes: tuple[tuple[dict[str, object], str], ...] = (
        ({"handle": "@"}, "handle"),
        ({"handle": "@a b"}, "handle"),
        ({"label": ""}, "label"),
        ({"maxRunsPerRepository": 0}, "maxRunsPerRepository"),
        ({"maxRunsPerRepository": 101}, "maxRunsPerRepository"),
    )
    for change, field in changes:
        refused = await app.put(settings, json=change, headers=ada)
        assert refused.status_code in {400, 422}, (change, refused.text)
        problem = refused.json()
        named = {e.get("field") for e in problem.get("errors", [])} | {problem.get("field")}
        assert any(str(n or "").endswith(field) for n in named), (change, problem)


async def test_an_admin_sets_the_label_handle_and_cap(app: Client, postgres_url: str) -> None:
    team, _ = await _teams(postgres_url)
    path = f"/api/orgs/{team}/resolver/settings"
    ada = bearer("sub-ada")
    defaults = (await app.get(path, headers=ada)).json()
    assert defaults == {
        "label": None,
        "handle": None,
        "maxRunsPerRepository": None,
        "effectiveLabel": "openhands",
        "effectiveHandle": "@openhands",
        "updatedAt": None,
    }
    changed = await app.put(
        path, json={"label": "fix-me", "handle": "acme-bot", "maxRunsPerRepository": 2}, headers=ada
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["effectiveLabel"], body["effectiveHandle"], body["maxRunsPerRepository"]) == (
        "fix-me",
        "@acme-bot",
        2,
    )
    assert (await app.get(path, headers=ada)).json() == body
    cleared = (await app.put(path, json={}, headers=ada)).json()
    assert (cleared["effectiveLabel"], cleared["maxRunsPerRepository"]) == ("openhands", None)
    assert await _audited(postgres_url, team) == ["resolver.settings_changed"] * 2
