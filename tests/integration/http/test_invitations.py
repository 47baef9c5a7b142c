"""Invitations over HTTP on the clustered binding: owners and admins invite people by email
before they ever sign in, list and revoke the invitations, and nobody outside the organization
learns anything about them."""

from typing import Any

import pytest
from httpx import Response

from tests.db import add_user
from tests.integration.http.conftest import Client, bearer

pytestmark = pytest.mark.postgres


def _code(response: Response) -> str:
    code: str = response.json()["code"]
    return code


async def _create_org(client: Client, subject: str, name: str = "Team") -> str:
    response = await client.post("/api/orgs", json={"name": name}, headers=bearer(subject))
    assert response.status_code == 201, response.text
    org_id: str = response.json()["id"]
    return org_id


async def _invite(
    client: Client, actor: dict[str, str], org_id: str, body: dict[str, Any]
) -> Response:
    return await client.post(f"/api/orgs/{org_id}/invitations", json=body, headers=actor)


async def _listed(client: Client, actor: dict[str, str], org_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/orgs/{org_id}/invitations", headers=actor)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _actions(client: Client, subject: str, org_id: str) -> list[str]:
    response = await client.get(f"/api/orgs/{org_id}/audit", headers=bearer(subject))
    return [e["action"] for e in response.json()["items"]]


async def _member(client: Client, owner: str, org_id: str, subject: str, role: str) -> None:
    response = await client.post(
        f"/api/orgs/{org_id}/members",
        json={"email": f"{subject}@example.com", "role": role},
        headers=bearer(owner),
    )
    assert response.status_code == 201, response.text


async def test_the_owner_invites_someone_who_never_signed_in_and_sees_it_listed(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    team = await _create_org(clustered_client, "alice")

    response = await _invite(
        clustered_client, bearer("alice"), team, {"email": "New.Hire@Example.COM", "role": "admin"}
    )

    assert response.status_code == 201, response.text
    invitation = response.json()
    assert response.headers["location"] == f"/api/orgs/{team}/invitations/{invitation['id']}"
    assert invitation["email"] == "New.Hire@example.com"
    assert (invitation["role"], invitation["status"]) == ("admin", "pending")
    assert invitation["invitedBy"] == str(alice.id_)
    assert invitation["expiresAt"] > invitation["createdAt"]
    assert await _listed(clustered_client, bearer("alice"), team) == [invitation]
    assert (await _actions(clustered_client, "alice", team))[0] == "invitation.created"
    members = await clustered_client.get(f"/api/orgs/{team}/members", headers=bearer("alice"))
    assert len(members.json()["items"]) == 1


async def test_a_second_invitation_or_one_for_a_member_is_409(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    team = await _create_org(clustered_client, "alice")
    await _member(clustered_client, "alice", team, "bob", "member")
    first = await _invite(clustered_client, bearer("alice"), team, {"email": "x@example.com"})
    assert first.status_code == 201, first.text

    again = await _invite(clustered_client, bearer("alice"), team, {"email": "X@EXAMPLE.COM"})
    member = await _invite(clustered_client, bearer("alice"), team, {"email": "Bob@example.com"})
    owner = await _invite(clustered_client, bearer("alice"), team, {"email": "alice@example.com"})

    assert (again.status_code, _code(again)) == (409, "invitation-already-pending")
    assert (member.status_code, _code(member)) == (409, "member-already-exists")
    assert (owner.status_code, _code(owner)) == (409, "member-already-exists")
    assert len(await _listed(clustered_client, bearer("alice"), team)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "x@example.com", "role": "boss"}, "role"),
        ({"email": 7}, "email"),
        ({}, "email"),
        ({"email": "x@example.com", "extra": 1}, "extra"),
    ],
)
async def test_bad_invitations_are_422_naming_the_field(
    clustered_client: Client, postgres_url: str, body: dict[str, Any], field: str
) -> None:
    await add_user(postgres_url, "alice")
    team = await _create_org(clustered_client, "alice")

    response = await _invite(clustered_client, bearer("alice"), team, body)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await _listed(clustered_client, bearer("alice"), team) == []


async def test_admins_invite_members_but_not_admins_and_members_nothing(
    clustered_client: Client, postgres_url: str
) -> None:
    for subject in ("alice", "bob", "carol"):
        await add_user(postgres_url, subject)
    team = await _create_org(clustered_client, "alice")
    await _member(clustered_client, "alice", team, "bob", "admin")
    await _member(clustered_client, "alice", team, "carol", "member")

    by_admin = await _invite(clustered_client, bearer("bob"), team, {"email": "m@example.com"})
    admin_by_admin = await _invite(
        clustered_client, bearer("bob"), team, {"email": "a@example.com", "role": "admin"}
    )
    owner = await _invite(
        clustered_client, bearer("alice"), team, {"email": "o@example.com", "role": "owner"}
    )
    by_member = await _invite(clustered_client, bearer("carol"), team, {"email": "z@example.com"})
    listed_by_member = await clustered_client.get(
        f"/api/orgs/{team}/invitations", headers=bearer("carol")
    )

    assert by_admin.status_code == 201, by_admin.text
    assert admin_by_admin.status_code == 403
    assert owner.status_code == 403
    assert (by_member.status_code, _code(by_member)) == (403, "not-an-org-admin")
    assert (listed_by_member.status_code, _code(listed_by_member)) == (403, "not-an-org-admin")
    assert [i["email"] for i in await _listed(clustered_client, bearer("bob"), team)] == [
        "m@example.com"
    ]


async def test_revoking_closes_the_invitation_once_and_is_audited(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    team = await _create_org(clustered_client, "alice")
    created = await _invite(clustered_client, bearer("alice"), team, {"email": "x@example.com"})
    url = f"/api/orgs/{team}/invitations/{created.json()['id']}"

    revoked = await clustered_client.delete(url, headers=bearer("alice"))
    again = await clustered_client.delete(url, headers=bearer("alice"))

    assert revoked.status_code == 204
    assert (again.status_code, _code(again)) == (409, "invitation-not-pending")
    assert await _listed(clustered_client, bearer("alice"), team) == []
    assert (await _actions(clustered_client, "alice", team))[0] == "invitation.revoked"
    renewed = await _invite(clustered_client, bearer("alice"), team, {"email": "x@example.com"})
    assert renewed.status_code == 201, renewed.text


async def test_another_orgs_invitations_answer_404(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "mallory")
    team = await _create_org(clustered_client, "alice")
    theirs = await _create_org(clustered_client, "mallory", "Theirs")
    created = await _invite(clustered_client, bearer("alice"), team, {"email": "x@example.com"})
    invitation_id = created.json()["id"]

    through_own_org = await clustered_client.delete(
        f"/api/orgs/{theirs}/invitations/{invitation_id}", headers=bearer("mallory")
    )
    through_alices_org = await clustered_client.delete(
        f"/api/orgs/{team}/invitations/{invitation_id}", headers=bearer("mallory")
    )
    listed = await clustered_client.get(f"/api/orgs/{team}/invitations", headers=bearer("mallory"))
    invited = await _invite(clustered_client, bearer("mallory"), team, {"email": "m@example.com"})
    unknown = await clustered_client.delete(
        f"/api/orgs/{team}/invitations/01a20000-0000-7000-8000-000000000000",
        headers=bearer("alice"),
    )

    assert (through_own_org.status_code, _code(through_own_org)) == (404, "invitation-not-found")
    for response in (through_alices_org, listed, invited):
        assert (response.status_code, _code(response)) == (404, "org-not-found")
    assert (unknown.status_code, _code(unknown)) == (404, "invitation-not-found")
    assert len(await _listed(clustered_client, bearer("alice"), team)) == 1
    assert await _listed(clustered_client, bearer("mallory"), theirs) == []


async def test_a_personal_org_invites_nobody(clustered_client: Client, postgres_url: str) -> None:
    await add_user(postgres_url, "alice")
    orgs = (await clustered_client.get("/api/orgs", headers=bearer("alice"))).json()["items"]
    [personal] = [o["id"] for o in orgs if o["personal"]]

    response = await _invite(clustered_client, bearer("alice"), personal, {"email": "x@ex.com"})

    assert (response.status_code, _code(response)) == (403, "personal-org")


async def test_invitations_need_a_key_with_org_admin(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    team = await _create_org(clustered_client, "alice")
    created = await _invite(clustered_client, bearer("alice"), team, {"email": "x@example.com"})
    keys = {}
    for scopes in (["settings:read"], ["org:admin"]):
        response = await clustered_client.post(
            "/api/keys",
            json={"name": "ci", "scopes": scopes},
            headers={**bearer("alice"), "X-Org-Id": team},
        )
        assert response.status_code == 201, response.text
        keys[scopes[0]] = {"Authorization": f"Bearer {response.json()['token']}"}
    url = f"/api/orgs/{team}/invitations"
    one = f"{url}/{created.json()['id']}"

    plain = keys["settings:read"]
    refused = [
        await clustered_client.get(url, headers=plain),
        await _invite(clustered_client, plain, team, {"email": "y@example.com"}),
        await clustered_client.delete(one, headers=plain),
    ]
    assert [(r.status_code, _code(r)) for r in refused] == [(403, "missing-scope")] * 3

    admin = keys["org:admin"]
    assert len(await _listed(clustered_client, admin, team)) == 1
    assert (
        await _invite(clustered_client, admin, team, {"email": "y@example.com"})
    ).status_code == 201
    assert (await clustered_client.delete(one, headers=admin)).status_code == 204
