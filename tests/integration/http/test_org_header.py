"""``X-Org-Id`` does what the README says: the routes it lists act in the organization the
header names, refusing one the caller is not a member of; every other route ignores it."""

import re
from pathlib import Path

import pytest
from litestar.routes import HTTPRoute

from tests.db import add_user
from tests.integration.http.conftest import Client, bearer

pytestmark = pytest.mark.postgres

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def _readme_org_routes() -> list[str]:
    """The path prefixes the README's Organizations paragraph says honour ``X-Org-Id``."""
    text = " ".join(README.split())
    paragraph = text.split("- **Organizations:**", 1)[1].split("Every other route", 1)[0]
    return re.findall(r"`(/api/[a-z/-]+)`", paragraph)


def _listed(path: str, prefixes: list[str]) -> bool:
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in prefixes)


async def _create_org(client: Client, subject: str) -> str:
    response = await client.post("/api/orgs", json={"name": "Team"}, headers=bearer(subject))
    assert response.status_code == 201, response.text
    org_id: str = response.json()["id"]
    return org_id


async def test_the_header_is_honoured_on_the_routes_the_readme_lists_and_ignored_elsewhere(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    alices = await _create_org(clustered_client, "alice")
    prefixes = _readme_org_routes()
    assert prefixes, "the README lists the routes that act in an organization"

    reads = sorted(
        route.path
        for route in clustered_client.app.routes
        if isinstance(route, HTTPRoute) and "GET" in route.methods and "{" not in route.path
    )
    honoured, ignored = set(), set()
    for path in reads:
        plain = await clustered_client.get(path, headers=bearer("bob"))
        if plain.status_code != 200:
            continue  # needs a query parameter or another credential; nothing to compare
        foreign = await clustered_client.get(path, headers={**bearer("bob"), "X-Org-Id": alices})
        if foreign.status_code == 404:
            assert foreign.json()["code"] == "org-not-found", (path, foreign.text)
            assert alices not in foreign.text
            honoured.add(path)
        else:
            assert foreign.status_code == 200, (path, foreign.text)
            ignored.add(path)

    assert honoured, reads
    assert {path for path in honoured if not _listed(path, prefixes)} == set()
    assert {path for path in ignored if _listed(path, prefixes)} == set()
    for prefix in prefixes:
        assert any(_listed(path, [prefix]) for path in honoured), prefix
    assert {"/api/user/me", "/api/secrets", "/api/user/git-providers", "/api/orgs"} <= ignored


async def test_a_member_acts_in_the_organization_the_header_names(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    team = await _create_org(clustered_client, "alice")
    in_team = {**bearer("alice"), "X-Org-Id": team}

    made = await clustered_client.post("/api/keys", json={"name": "ci"}, headers=in_team)
    assert made.status_code == 201, made.text
    assert made.json()["key"]["orgId"] == team
    assert [
        k["name"]
        for k in (await clustered_client.get("/api/keys", headers=in_team)).json()["items"]
    ] == ["ci"]
    assert (await clustered_client.get("/api/keys", headers=bearer("alice"))).json()["items"] == []


@pytest.mark.parametrize("path", ["/api/settings", "/api/keys", "/api/conversations"])
async def test_a_header_that_is_not_an_id_is_named(
    clustered_client: Client, postgres_url: str, path: str
) -> None:
    await add_user(postgres_url, "alice")
    answer = await clustered_client.get(path, headers={**bearer("alice"), "X-Org-Id": "acme"})

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"][0]["field"] == "X-Org-Id"
    assert problem["detail"] == "X-Org-Id must be the id of an organization you belong to."
