"""Browsing a connected git provider over HTTP: repositories, search, branches, installations,
against loopback fakes of GitHub (cloud), GitLab (self-hosted) and Bitbucket (cloud)."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.fakes.git_hosts import (
    FakeBitbucket,
    FakeGitHub,
    FakeGitLab,
    run_fake_bitbucket,
    run_fake_github,
    run_fake_gitlab,
)
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve


@dataclass
class Hosts:
    github: FakeGitHub
    gitlab: FakeGitLab
    bitbucket: FakeBitbucket


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    with run_fake_github() as github, run_fake_gitlab() as gitlab, run_fake_bitbucket() as bb:
        for fake in (github, gitlab, bb):
            fake.add_user("alice", name="Alice", email="alice@example.com")
            fake.add_user("bob", name="Bob", email="bob@example.com")
        yield Hosts(github, gitlab, bb)


def pointed_at(settings: Settings, hosts: Hosts, *, list_gitlab: bool = True) -> Settings:
    """GitHub and Bitbucket clouds are the fakes; GitLab is connected as a self-hosted one,
    which operators list for a clustered server."""
    return settings.with_changes(
        git=settings.git.with_changes(
            github_url=hosts.github.base_url,
            bitbucket_url=hosts.bitbucket.base_url,
            self_hosted_urls=(hosts.gitlab.base_url,) if list_gitlab else None,
        )
    )


async def connect_all(client: Client, hosts: Hosts, login: str, **headers: str) -> None:
    bodies = {
        "github": {"token": hosts.github.issue_token(login)},
        "gitlab": {"token": hosts.gitlab.issue_token(login), "baseUrl": hosts.gitlab.base_url},
        "bitbucket": {"token": hosts.bitbucket.issue_token(login)},
    }
    for provider, body in bodies.items():
        response = await client.put(
            f"/api/user/git-providers/{provider}", json=body, headers=headers
        )
        assert response.status_code == 200, (provider, response.text)


async def walk(client: Client, path: str, params: dict[str, str], **headers: str) -> list[str]:
    """Every item's name across all pages, following ``nextPage``."""
    names: list[str] = []
    page: int | None = 1
    while page is not None:
        response = await client.get(path, params={**params, "page": str(page)}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        names += [item.get("fullName") or item["name"] for item in body["items"]]
        page = body["nextPage"]
    return names


@pytest.mark.parametrize(
    ("provider", "owner"), [("github", "alice"), ("gitlab", "alice"), ("bitbucket", "alice")]
)
async def test_a_connected_user_lists_searches_and_branches_their_repositories(
    embedded_settings: Settings, hosts: Hosts, provider: str, owner: str
) -> None:
    fake = getattr(hosts, provider)
    for index in range(7):
        fake.add_repo(f"{owner}/repo-{index}", branches=["main", f"feature-{index}", "dev"])
    fake.add_repo("bob/hidden")
    async with serve(pointed_at(embedded_settings, hosts)) as client:
        await connect_all(client, hosts, "alice")
        listed = await walk(
            client, "/api/user/repositories", {"provider": provider, "perPage": "3"}
        )
        assert sorted(listed) == sorted(f"{owner}/repo-{i}" for i in range(7))
        assert len(listed) == len(set(listed))
        assert "bob/hidden" not in listed

        found = await client.get(
            "/api/user/search/repositories", params={"provider": provider, "query": "repo-3"}
        )
        assert found.status_code == 200, found.text
        assert [item["fullName"] for item in found.json()["items"]] == [f"{owner}/repo-3"]

        branches = await walk(
            client,
            "/api/user/repository/branches",
            {"provider": provider, "repository": f"{owner}/repo-2", "perPage": "2"},
        )
        assert sorted(branches) == ["dev", "feature-2", "main"]

        matching = await client.get(
            "/api/user/search/branches",
            params={"provider": provider, "repository": f"{owner}/repo-2", "query": "feat"},
        )
        assert matching.status_code == 200, matching.text
        assert [b["name"] for b in matching.json()["items"]] == ["feature-2"]

        hidden = await client.get(
            "/api/user/repository/branches",
            params={"provider": provider, "repository": "bob/hidden"},
        )
        assert hidden.status_code == 404


async def test_github_app_installations_and_their_repositories(
    embedded_settings: Settings, hosts: Hosts
) -> None:
    hosts.github.add_installation(7, "acme", members=["alice"])
    hosts.github.add_installation(8, "globex", members=["bob"])
    hosts.github.add_repo("acme/api", members=["alice"], installation_id=7)
    hosts.github.add_repo("acme/web", members=["alice"], installation_id=7)
    hosts.github.add_repo("globex/secret", members=["bob"], installation_id=8)
    async with serve(pointed_at(embedded_settings, hosts)) as client:
        await connect_all(client, hosts, "alice")
        installations = await client.get("/api/user/installations", params={"provider": "github"})
        assert installations.status_code == 200, installations.text
        assert installations.json() == {
            "items": [{"id": "7", "accountLogin": "acme", "accountType": "Organization"}]
        }
        listed = await walk(
            client, "/api/user/repositories", {"provider": "github", "installationId": "7"}
        )
        assert sorted(listed) == ["acme/api", "acme/web"]
        others = await client.get(
            "/api/user/repositories", params={"provider": "github", "installationId": "8"}
        )
        assert others.status_code == 404
        gitlab = await client.get("/api/user/installations", params={"provider": "gitlab"})
        assert gitlab.status_code == 200
        assert gitlab.json() == {"items": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"provider": "sourceforge"}, "provider"),
        ({"provider": "github", "page": "0"}, "page"),
        ({"provider": "github", "perPage": "101"}, "perPage"),
        ({"provider": "github", "perPage": "0"}, "perPage"),
        ({"provider": "github", "sort": "stars"}, "sort"),
        ({"provider": "github", "installationId": "abc"}, "installationId"),
        ({"provider": "gitlab", "installationId": "7"}, "installationId"),
        ({"provider": "github", "page": "many"}, "page"),
    ],
)
async def test_bad_listing_parameters_name_the_field(
    embedded_settings: Settings, hosts: Hosts, params: dict[str, str], field: str
) -> None:
    async with serve(pointed_at(embedded_settings, hosts)) as client:
        await connect_all(client, hosts, "alice")
        response = await client.get("/api/user/repositories", params=params)
    assert response.status_code in (400, 422), response.text
    body = response.json()
    named = {error.get("field") for error in body.get("errors") or []}
    assert field in named or field in body["detail"], body


@pytest.mark.parametrize(
    "repository", ["../../user", "alice/repo?x=1", "alice/repo#frag", "alice//repo", ""]
)
async def test_hostile_repository_names_are_refused(
    embedded_settings: Settings, hosts: Hosts, repository: str
) -> None:
    async with serve(pointed_at(embedded_settings, hosts)) as client:
        await connect_all(client, hosts, "alice")
        response = await client.get(
            "/api/user/repository/branches",
            params={"provider": "github", "repository": repository},
        )
    assert response.status_code in (400, 422), response.text


async def test_not_connected_revoked_and_outage_answers(
    embedded_settings: Settings, hosts: Hosts
) -> None:
    async with serve(pointed_at(embedded_settings, hosts)) as client:
        missing = await client.get("/api/user/repositories", params={"provider": "github"})
        assert missing.status_code == 404
        assert missing.json()["code"] == "git-provider-not-connected"

        token = hosts.github.issue_token("alice")
        connected = await client.put("/api/user/git-providers/github", json={"token": token})
        assert connected.status_code == 200

        hosts.github.outage = 503
        down = await client.get("/api/user/repositories", params={"provider": "github"})
        assert down.status_code == 503
        hosts.github.outage = None

        hosts.github.revoke(token)
        revoked = await client.get("/api/user/repositories", params={"provider": "github"})
        assert revoked.status_code == 409
        body = revoked.json()
        assert body["code"] == "git-provider-reconnect-required"
        assert body["provider"] == "github"
        assert token not in revoked.text
        # Nothing is deleted: the connection is still listed until the user replaces it.
        listed = await client.get("/api/user/git-providers")
        assert [c["provider"] for c in listed.json()["items"]] == ["github"]


@pytest.mark.postgres
async def test_each_user_browses_with_their_own_token(postgres_url: str, hosts: Hosts) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    hosts.github.add_repo("alice/mine")
    hosts.github.add_repo("bob/theirs")
    settings = pointed_at(clustered_settings(postgres_url), hosts)
    async with serve(settings, BearerSubjectAuth()) as client:
        await connect_all(client, hosts, "alice", **bearer("alice"))
        as_alice = await walk(
            client, "/api/user/repositories", {"provider": "github"}, **bearer("alice")
        )
        assert as_alice == ["alice/mine"]
        as_bob = await client.get(
            "/api/user/repositories", params={"provider": "github"}, headers=bearer("bob")
        )
        assert as_bob.status_code == 404
        assert as_bob.json()["code"] == "git-provider-not-connected"


async def test_bitbucket_takes_an_app_password_as_username_colon_password(
    embedded_settings: Settings, hosts: Hosts
) -> None:
    hosts.bitbucket.add_repo("alice/site")
    password = hosts.bitbucket.issue_token("alice")
    async with serve(pointed_at(embedded_settings, hosts)) as client:
        wrong_user = await client.put(
            "/api/user/git-providers/bitbucket", json={"token": f"bob:{password}"}
        )
        assert wrong_user.status_code == 422
        assert wrong_user.json()["errors"][0]["field"] == "token"
        connected = await client.put(
            "/api/user/git-providers/bitbucket", json={"token": f"alice:{password}"}
        )
        assert connected.status_code == 200, connected.text
        listed = await walk(client, "/api/user/repositories", {"provider": "bitbucket"})
        assert listed == ["alice/site"]
    sent = [call for call in hosts.bitbucket.calls if call.path.endswith("/repositories")]
    assert sent
    assert all((call.authorization or "").startswith("Basic ") for call in sent)


@pytest.mark.postgres
async def test_a_shared_server_connects_only_the_self_hosted_servers_operators_list(
    postgres_url: str, hosts: Hosts
) -> None:
    """Users of a clustered server cannot make it call hosts of their choosing: a GitHub
    Enterprise or GitLab address must be listed in MAESTRIST_GIT_SELF_HOSTED_URLS."""
    await add_user(postgres_url, "alice")
    body = {"token": hosts.gitlab.issue_token("alice"), "baseUrl": hosts.gitlab.base_url}
    unlisted = pointed_at(clustered_settings(postgres_url), hosts, list_gitlab=False)
    async with serve(unlisted, BearerSubjectAuth()) as client:
        refused = await client.put(
            "/api/user/git-providers/gitlab", json=body, headers=bearer("alice")
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "baseUrl"
        assert "MAESTRIST_GIT_SELF_HOSTED_URLS" in refused.json()["errors"][0]["message"]
    assert not [call for call in hosts.gitlab.calls if call.path.startswith("/api/v4")]

    listed = unlisted.with_changes(
        git=unlisted.git.with_changes(self_hosted_urls=(hosts.gitlab.base_url,))
    )
    async with serve(listed, BearerSubjectAuth()) as client:
        accepted = await client.put(
            "/api/user/git-providers/gitlab", json=body, headers=bearer("alice")
        )
        assert accepted.status_code == 200, accepted.text
