"""Linking a GitHub App installation to an organization over HTTP: only its admins, only an
installation their own GitHub account reaches, and one organization per installation."""

from collections.abc import AsyncIterator, Iterator

import pytest

from domain.organizations.entities import Membership, OrgId, Role
from tests.conftest import clustered_settings
from tests.db import add_user, sqla_ports
from tests.factories import T0, create_org
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.integration.http.test_git_connections import with_github

pytestmark = pytest.mark.postgres

LINK = "/api/integrations/github/installations"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("ada")
        fake.add_user("bob")
        fake.add_user("acme", organization=True, members={"ada", "bob"})
        fake.add_installation(4242, "acme", members={"ada", "bob"})
        fake.add_installation(5151, "bob", account_type="User", members={"bob"})
        yield fake


@pytest.fixture
async def app(postgres_url: str, github: FakeGitHub) -> AsyncIterator[Client]:
    settings = with_github(clustered_settings(postgres_url), github)
    async with serve(settings, BearerSubjectAuth()) as client:
        yield client


async def _team(postgres_url: str) -> OrgId:
    """A team ada owns and bob is a member of."""
    ada = await add_user(postgres_url, "sub-ada")
    bob = await add_user(postgres_url, "sub-bob")
    org, founder = create_org(ada, "Acme")
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        await ports.orgs.add(org, founder)
        await ports.orgs.add_member(
            Membership(org_id=org.id_, user_id=bob.id_, role=Role.MEMBER, joined_at=T0)
        )
        await ports.uow.commit()
    return org.id_


async def _connect(app: Client, github: FakeGitHub, login: str) -> None:
    connected = await app.put(
        "/api/user/git-providers/github",
        json={"token": github.issue_token(login)},
        headers=bearer(f"sub-{login}"),
    )
    assert connected.status_code == 200, connected.text


async def test_an_admin_links_an_installation_their_account_reaches(
    app: Client, github: FakeGitHub, postgres_url: str
) -> None:
    team = await _team(postgres_url)
    as_ada = {**bearer("sub-ada"), "X-Org-Id": str(team)}
    not_connected = await app.put(f"{LINK}/4242", headers=as_ada)
    assert not_connected.status_code == 404
    assert not_connected.json()["code"] == "git-provider-not-connected"
    await _connect(app, github, "ada")
    linked = await app.put(f"{LINK}/4242", headers=as_ada)
    assert linked.status_code == 200, linked.text
    assert linked.json()["account"] == "acme"
    assert linked.json()["installationId"] == "4242"
    again = await app.put(f"{LINK}/4242", headers=as_ada)
    assert again.status_code == 200
    listed = (await app.get(LINK, headers=as_ada)).json()["items"]
    assert [i["installationId"] for i in listed] == ["4242"]
    personal = (await app.get(LINK, headers=bearer("sub-ada"))).json()["items"]
    assert personal == []


async def test_a_member_an_unreachable_installation_and_a_second_org_are_refused(
    app: Client, github: FakeGitHub, postgres_url: str
) -> None:
    team = await _team(postgres_url)
    await _connect(app, github, "ada")
    await _connect(app, github, "bob")
    as_ada = {**bearer("sub-ada"), "X-Org-Id": str(team)}
    as_bob = {**bearer("sub-bob"), "X-Org-Id": str(team)}
    member = await app.put(f"{LINK}/4242", headers=as_bob)
    assert member.status_code == 403
    unreachable = await app.put(f"{LINK}/5151", headers=as_ada)
    assert unreachable.status_code == 404
    assert unreachable.json()["code"] == "app-installation-not-found"
    assert (await app.put(f"{LINK}/4242", headers=as_ada)).status_code == 200
    elsewhere = await app.put(f"{LINK}/4242", headers=bearer("sub-bob"))
    assert elsewhere.status_code == 403
    assert elsewhere.json()["code"] == "app-installation-taken"
    not_a_number = await app.put(f"{LINK}/abc", headers=as_ada)
    assert not_a_number.status_code == 422
