"""Members, roles, ownership and the audit trail over HTTP on the clustered binding.

Who may do what to whom inside an organization, that removal and leaving take every access
away (API keys included), and that someone outside an organization learns nothing about it:
every membership route answers them exactly like an organization that does not exist.
"""

from typing import Any

import pytest
from httpx import Response

from domain.identity.entities import User
from tests.db import add_user
from tests.integration.http.conftest import Client, bearer

pytestmark = pytest.mark.postgres

UNKNOWN_ORG = "01a20000-0000-7000-8000-000000000000"


def _code(response: Response) -> str:
    code: str = response.json()["code"]
    return code


async def _create_org(client: Client, subject: str, name: str = "Team") -> str:
    response = await client.post("/api/orgs", json={"name": name}, headers=bearer(subject))
    assert response.status_code == 201, response.text
    org_id: str = response.json()["id"]
    return org_id


async def _personal_org(client: Client, subject: str) -> str:
    orgs = (await client.get("/api/orgs", headers=bearer(subject))).json()["items"]
    [personal] = [o["id"] for o in orgs if o["personal"]]
    personal_id: str = personal
    return personal_id


async def _add(
    client: Client,
    actor: dict[str, str],
    org_id: str,
    email: str,
    role: str | None = None,
) -> Response:
    body = {"email": email} if role is None else {"email": email, "role": role}
    return await client.post(f"/api/orgs/{org_id}/members", json=body, headers=actor)


async def _added(
    client: Client, actor: str, org_id: str, user: User, role: str = "member"
) -> dict[str, Any]:
    response = await _add(client, bearer(actor), org_id, user.email.value, role)
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


async def _roles(client: Client, subject: str, org_id: str) -> dict[str, str]:
    """``{user id: role}`` of the org's members, as ``subject`` reads them."""
    response = await client.get(f"/api/orgs/{org_id}/members", headers=bearer(subject))
    assert response.status_code == 200, response.text
    return {m["userId"]: m["role"] for m in response.json()["items"]}


async def _patch(
    client: Client, actor: dict[str, str], org_id: str, user_id: object, role: str
) -> Response:
    return await client.patch(
        f"/api/orgs/{org_id}/members/{user_id}", json={"role": role}, headers=actor
    )


async def _remove(client: Client, actor: dict[str, str], org_id: str, user_id: object) -> Response:
    return await client.delete(f"/api/orgs/{org_id}/members/{user_id}", headers=actor)


async def _transfer(
    client: Client, actor: dict[str, str], org_id: str, user_id: object
) -> Response:
    return await client.post(
        f"/api/orgs/{org_id}/transfer", json={"userId": str(user_id)}, headers=actor
    )


async def _audit(
    client: Client, actor: dict[str, str], org_id: str, limit: int | str = 50
) -> Response:
    return await client.get(f"/api/orgs/{org_id}/audit", params={"limit": limit}, headers=actor)


async def _make_key(
    client: Client, subject: str, org_id: str, scopes: list[str]
) -> tuple[dict[str, str], str]:
    """A new key of ``subject`` in ``org_id``: its ``Authorization`` header and its id."""
    response = await client.post(
        "/api/keys",
        json={"name": "ci", "scopes": scopes},
        headers={**bearer(subject), "X-Org-Id": org_id},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    key_id: str = created["key"]["id"]
    return {"Authorization": f"Bearer {created['token']}"}, key_id


async def test_owner_adds_an_existing_user_by_email_whatever_its_case(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    team = await _create_org(clustered_client, "alice")
    assert team not in {
        o["id"]
        for o in (await clustered_client.get("/api/orgs", headers=bearer("bob"))).json()["items"]
    }

    response = await _add(clustered_client, bearer("alice"), team, "BOB@Example.COM")

    assert response.status_code == 201, response.text
    member = response.json()
    assert member["userId"] == str(bob.id_)
    assert member["email"] == "bob@example.com"
    assert member["displayName"] == bob.display_name
    assert member["role"] == "member"
    assert member["joinedAt"]
    bobs_orgs = (await clustered_client.get("/api/orgs", headers=bearer("bob"))).json()["items"]
    assert {(o["id"], o["role"], o["personal"]) for o in bobs_orgs if not o["personal"]} == {
        (team, "member", False)
    }
    read = await clustered_client.get(f"/api/orgs/{team}", headers=bearer("bob"))
    assert read.status_code == 200
    assert read.json()["role"] == "member"
    assert read.json()["createdBy"] == str(alice.id_)
    assert await _roles(clustered_client, "bob", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "member",
    }


async def test_an_unknown_email_is_404_user_not_found_and_a_bad_one_422(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    team = await _create_org(clustered_client, "alice")

    unknown = await _add(clustered_client, bearer("alice"), team, "nobody@example.com")
    malformed = await _add(clustered_client, bearer("alice"), team, "not-an-email")

    assert unknown.status_code == 404
    assert _code(unknown) == "user-not-found"
    assert malformed.status_code == 422
    assert list((await _roles(clustered_client, "alice", team)).values()) == ["owner"]


async def test_adding_someone_twice_is_409_member_already_exists(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)

    again = await _add(clustered_client, bearer("alice"), team, "bob@example.com", "admin")
    owner = await _add(clustered_client, bearer("alice"), team, alice.email.value)

    assert (again.status_code, _code(again)) == (409, "member-already-exists")
    assert (owner.status_code, _code(owner)) == (409, "member-already-exists")
    assert await _roles(clustered_client, "alice", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "member",
    }


async def test_members_list_admins_add_members_and_only_the_owner_adds_admins(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    dave = await add_user(postgres_url, "dave")
    erin = await add_user(postgres_url, "erin")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)

    by_member = await _add(clustered_client, bearer("bob"), team, carol.email.value)
    assert (by_member.status_code, _code(by_member)) == (403, "not-an-org-admin")
    assert set(await _roles(clustered_client, "bob", team)) == {str(alice.id_), str(bob.id_)}

    assert (await _added(clustered_client, "alice", team, carol, "admin"))["role"] == "admin"
    assert (await _added(clustered_client, "carol", team, dave))["role"] == "member"
    admin_by_admin = await _add(clustered_client, bearer("carol"), team, erin.email.value, "admin")
    assert admin_by_admin.status_code == 403
    assert _code(admin_by_admin) == "permission-denied"
    for actor in ("alice", "carol"):
        owner = await _add(clustered_client, bearer(actor), team, erin.email.value, "owner")
        assert owner.status_code == 403
    bad_role = await _add(clustered_client, bearer("alice"), team, erin.email.value, "root")
    assert bad_role.status_code == 422

    assert await _roles(clustered_client, "dave", team) == {
        str(alice.id_): "owner",
        str(carol.id_): "admin",
        str(bob.id_): "member",
        str(dave.id_): "member",
    }
    members = (
        await clustered_client.get(f"/api/orgs/{team}/members", headers=bearer("dave"))
    ).json()["items"]
    assert [m["role"] for m in members] == ["owner", "admin", "member", "member"]


async def test_only_the_owner_changes_roles_and_never_to_or_from_owner(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)
    await _added(clustered_client, "alice", team, carol, "admin")

    # PATCH answers 2xx: today 200 with a JSON ``null`` body (see the report), 204 would do.
    promoted = await _patch(clustered_client, bearer("alice"), team, bob.id_, "admin")
    assert promoted.is_success, promoted.text
    assert (await _roles(clustered_client, "bob", team))[str(bob.id_)] == "admin"
    demoted = await _patch(clustered_client, bearer("alice"), team, carol.id_, "member")
    assert demoted.is_success, demoted.text
    assert (await _roles(clustered_client, "bob", team))[str(carol.id_)] == "member"
    unchanged = await _patch(clustered_client, bearer("alice"), team, carol.id_, "member")
    assert unchanged.is_success, unchanged.text

    refused = [
        (bearer("bob"), carol.id_, "admin", "permission-denied"),  # an admin
        (bearer("bob"), bob.id_, "member", "permission-denied"),
        (bearer("carol"), bob.id_, "member", "not-an-org-admin"),  # a member
        (bearer("carol"), carol.id_, "admin", "not-an-org-admin"),
        (bearer("alice"), bob.id_, "owner", "permission-denied"),
        (bearer("alice"), alice.id_, "admin", "permission-denied"),
        (bearer("bob"), alice.id_, "member", "permission-denied"),
    ]
    for actor, target, role, code in refused:
        response = await _patch(clustered_client, actor, team, target, role)
        assert (response.status_code, _code(response)) == (403, code), (target, role)

    stranger = await add_user(postgres_url, "stranger")
    not_a_member = await _patch(clustered_client, bearer("alice"), team, stranger.id_, "admin")
    assert (not_a_member.status_code, _code(not_a_member)) == (404, "member-not-found")
    bad_role = await _patch(clustered_client, bearer("alice"), team, bob.id_, "root")
    assert bad_role.status_code == 422
    assert await _roles(clustered_client, "alice", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "admin",
        str(carol.id_): "member",
    }
    rows = (await _audit(clustered_client, bearer("alice"), team)).json()["items"]
    changes = [e["details"] for e in rows if e["action"] == "member.role_changed"]
    assert changes == [{"from": "admin", "to": "member"}, {"from": "member", "to": "admin"}]


async def test_the_owner_can_neither_leave_nor_be_removed(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob, "admin")

    leave = await _remove(clustered_client, bearer("alice"), team, alice.id_)
    removed = await _remove(clustered_client, bearer("bob"), team, alice.id_)

    assert (leave.status_code, _code(leave)) == (403, "owner-must-transfer")
    assert (removed.status_code, _code(removed)) == (403, "owner-must-transfer")
    assert (await _roles(clustered_client, "alice", team))[str(alice.id_)] == "owner"


async def test_a_member_who_leaves_loses_the_org_at_once(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)

    left = await _remove(clustered_client, bearer("bob"), team, bob.id_)

    assert left.status_code == 204
    gone = await clustered_client.get(f"/api/orgs/{team}", headers=bearer("bob"))
    assert (gone.status_code, _code(gone)) == (404, "org-not-found")
    members = await clustered_client.get(f"/api/orgs/{team}/members", headers=bearer("bob"))
    assert (members.status_code, _code(members)) == (404, "org-not-found")
    bobs = (await clustered_client.get("/api/orgs", headers=bearer("bob"))).json()["items"]
    assert [o["personal"] for o in bobs] == [True]
    assert await _roles(clustered_client, "alice", team) == {str(alice.id_): "owner"}
    again = await _remove(clustered_client, bearer("bob"), team, bob.id_)
    assert (again.status_code, _code(again)) == (404, "org-not-found")
    readded = await _added(clustered_client, "alice", team, bob)
    assert readded["role"] == "member"


async def test_admins_remove_members_and_only_the_owner_removes_admins(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    dave = await add_user(postgres_url, "dave")
    erin = await add_user(postgres_url, "erin")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob, "admin")
    await _added(clustered_client, "alice", team, carol, "admin")
    await _added(clustered_client, "alice", team, dave)
    await _added(clustered_client, "alice", team, erin)

    by_member = await _remove(clustered_client, bearer("erin"), team, dave.id_)
    assert (by_member.status_code, _code(by_member)) == (403, "not-an-org-admin")
    admin_by_admin = await _remove(clustered_client, bearer("bob"), team, carol.id_)
    assert (admin_by_admin.status_code, _code(admin_by_admin)) == (403, "permission-denied")
    assert (await _remove(clustered_client, bearer("bob"), team, dave.id_)).status_code == 204
    assert (await _remove(clustered_client, bearer("alice"), team, carol.id_)).status_code == 204
    missing = await _remove(clustered_client, bearer("alice"), team, dave.id_)
    assert (missing.status_code, _code(missing)) == (404, "member-not-found")

    assert await _roles(clustered_client, "erin", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "admin",
        str(erin.id_): "member",
    }
    for subject in ("carol", "dave"):
        gone = await clustered_client.get(f"/api/orgs/{team}", headers=bearer(subject))
        assert gone.status_code == 404


async def test_removing_a_member_revokes_their_keys_in_that_org(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)
    with_key, key_id = await _make_key(clustered_client, "bob", team, ["settings:read"])
    bobs_personal = await _personal_org(clustered_client, "bob")
    personal_key, personal_key_id = await _make_key(clustered_client, "bob", bobs_personal, [])

    me = await clustered_client.get("/api/user/me", headers=with_key)
    assert me.status_code == 200
    assert me.json()["id"] == str(bob.id_)
    in_team_before = {**bearer("bob"), "X-Org-Id": team}
    listed = (await clustered_client.get("/api/keys", headers=in_team_before)).json()["items"]
    assert [(k["id"], k["orgId"], k["status"]) for k in listed] == [(key_id, team, "active")]
    assert (await clustered_client.get(f"/api/orgs/{team}", headers=with_key)).status_code == 200

    assert (await _remove(clustered_client, bearer("alice"), team, bob.id_)).status_code == 204

    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/user/me", None),
        ("GET", "/api/keys", None),
        ("POST", "/api/keys", {"name": "again"}),
        ("DELETE", f"/api/keys/{key_id}", None),
        ("GET", "/api/orgs", None),
        ("POST", "/api/orgs", {"name": "Elsewhere"}),
        ("GET", f"/api/orgs/{team}", None),
        ("GET", f"/api/orgs/{team}/members", None),
        ("POST", f"/api/orgs/{team}/members", {"email": "alice@example.com"}),
        ("PATCH", f"/api/orgs/{team}/members/{bob.id_}", {"role": "member"}),
        ("DELETE", f"/api/orgs/{team}/members/{bob.id_}", None),
        ("POST", f"/api/orgs/{team}/transfer", {"userId": str(bob.id_)}),
        ("GET", f"/api/orgs/{team}/audit", None),
        ("GET", f"/api/orgs/{bobs_personal}", None),
    ]
    for method, path, body in routes:
        response = await clustered_client.request(method, path, json=body, headers=with_key)
        assert (response.status_code, _code(response)) == (401, "not-authenticated"), path

    # The key's row tells the same story, and a key bob made elsewhere is untouched.
    assert (await clustered_client.get("/api/user/me", headers=personal_key)).status_code == 200
    in_team = await clustered_client.get("/api/keys", headers={**bearer("bob"), "X-Org-Id": team})
    assert in_team.status_code == 404
    personal_keys = (await clustered_client.get("/api/keys", headers=bearer("bob"))).json()
    assert [(k["id"], k["status"]) for k in personal_keys["items"]] == [(personal_key_id, "active")]
    [removal] = [
        e
        for e in (await _audit(clustered_client, bearer("alice"), team)).json()["items"]
        if e["action"] == "member.removed"
    ]
    assert removal["details"] == {"role": "member", "api_keys_revoked": "1"}

    # Coming back does not bring the old key back.
    await _added(clustered_client, "alice", team, bob)
    assert (await clustered_client.get("/api/user/me", headers=with_key)).status_code == 401


async def test_ownership_moves_by_transfer_and_the_old_owner_stays_as_admin(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    stranger = await add_user(postgres_url, "stranger")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)

    by_member = await _transfer(clustered_client, bearer("bob"), team, bob.id_)
    assert (by_member.status_code, _code(by_member)) == (403, "permission-denied")
    outsider = await _transfer(clustered_client, bearer("alice"), team, stranger.id_)
    assert (outsider.status_code, _code(outsider)) == (404, "member-not-found")

    assert (await _transfer(clustered_client, bearer("alice"), team, bob.id_)).status_code == 204
    assert await _roles(clustered_client, "alice", team) == {
        str(alice.id_): "admin",
        str(bob.id_): "owner",
    }
    alices = await clustered_client.get(f"/api/orgs/{team}", headers=bearer("alice"))
    assert alices.json()["role"] == "admin"
    bobs = (await clustered_client.get("/api/orgs", headers=bearer("bob"))).json()["items"]
    assert {o["role"] for o in bobs if o["id"] == team} == {"owner"}

    no_longer = await _transfer(clustered_client, bearer("alice"), team, alice.id_)
    assert (no_longer.status_code, _code(no_longer)) == (403, "permission-denied")
    leave = await _remove(clustered_client, bearer("bob"), team, bob.id_)
    assert (leave.status_code, _code(leave)) == (403, "owner-must-transfer")

    assert (await _transfer(clustered_client, bearer("bob"), team, alice.id_)).status_code == 204
    assert await _roles(clustered_client, "bob", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "admin",
    }
    no_longer = await _transfer(clustered_client, bearer("bob"), team, bob.id_)
    assert (no_longer.status_code, _code(no_longer)) == (403, "permission-denied")


async def test_a_personal_org_takes_no_members(clustered_client: Client, postgres_url: str) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    personal = await _personal_org(clustered_client, "alice")
    owner = bearer("alice")

    refused = [
        await _add(clustered_client, owner, personal, bob.email.value),
        await _add(clustered_client, owner, personal, bob.email.value, "admin"),
        await _patch(clustered_client, owner, personal, alice.id_, "admin"),
        await _remove(clustered_client, owner, personal, alice.id_),
        await _transfer(clustered_client, owner, personal, alice.id_),
    ]

    assert [(r.status_code, _code(r)) for r in refused] == [(403, "personal-org")] * 5
    assert await _roles(clustered_client, "alice", personal) == {str(alice.id_): "owner"}
    assert (await _audit(clustered_client, owner, personal)).status_code == 200
    bobs = (await clustered_client.get("/api/orgs", headers=bearer("bob"))).json()["items"]
    assert personal not in {o["id"] for o in bobs}


async def test_outsiders_get_the_same_404_as_for_an_org_that_does_not_exist(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    await add_user(postgres_url, "mallory")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)
    alices_personal = await _personal_org(clustered_client, "alice")
    mallory = bearer("mallory")

    async def attempts(org_id: str) -> list[Response]:
        return [
            await clustered_client.get(f"/api/orgs/{org_id}", headers=mallory),
            await clustered_client.get(f"/api/orgs/{org_id}/members", headers=mallory),
            await _add(clustered_client, mallory, org_id, "mallory@example.com"),
            await _add(clustered_client, mallory, org_id, bob.email.value, "admin"),
            await _patch(clustered_client, mallory, org_id, bob.id_, "admin"),
            await _patch(clustered_client, mallory, org_id, alice.id_, "member"),
            await _remove(clustered_client, mallory, org_id, bob.id_),
            await _remove(clustered_client, mallory, org_id, alice.id_),
            await _transfer(clustered_client, mallory, org_id, bob.id_),
            await _audit(clustered_client, mallory, org_id),
            await _audit(clustered_client, mallory, org_id, 1),
            await clustered_client.get("/api/keys", headers={**mallory, "X-Org-Id": org_id}),
        ]

    unknown = await attempts(UNKNOWN_ORG)
    for org_id in (team, alices_personal):
        foreign = await attempts(org_id)
        for stolen, missing in zip(foreign, unknown, strict=True):
            assert stolen.status_code == missing.status_code == 404, stolen.request.url
            assert _code(stolen) == _code(missing) == "org-not-found"
            assert stolen.json()["detail"] == missing.json()["detail"]
            assert stolen.json().keys() == missing.json().keys()
            told = {k: v for k, v in stolen.json().items() if k != "instance"}
            for secret in (bob.email.value, str(bob.id_), alice.email.value, str(alice.id_)):
                assert secret not in str(told)
    assert await _roles(clustered_client, "alice", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "member",
    }


async def test_the_audit_log_tells_who_did_what_newest_first_to_owner_and_admins(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    dave = await add_user(postgres_url, "dave")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)
    await _added(clustered_client, "alice", team, carol)
    assert (await _patch(clustered_client, bearer("alice"), team, carol.id_, "admin")).is_success
    _, key_id = await _make_key(clustered_client, "bob", team, [])
    assert (await clustered_client.delete(f"/api/keys/{key_id}", headers=bearer("bob"))).is_success
    await _added(clustered_client, "carol", team, dave)
    assert (await _remove(clustered_client, bearer("carol"), team, dave.id_)).is_success
    assert (await _transfer(clustered_client, bearer("alice"), team, carol.id_)).is_success
    await _added(clustered_client, "carol", team, dave)
    assert (await _remove(clustered_client, bearer("bob"), team, bob.id_)).is_success

    expected = [
        ("member.left", bob.id_, "user", str(bob.id_)),
        ("member.added", carol.id_, "user", str(dave.id_)),
        ("org.ownership_transferred", alice.id_, "user", str(carol.id_)),
        ("member.removed", carol.id_, "user", str(dave.id_)),
        ("member.added", carol.id_, "user", str(dave.id_)),
        ("api_key.revoked", bob.id_, "api_key", key_id),
        ("api_key.created", bob.id_, "api_key", key_id),
        ("member.role_changed", alice.id_, "user", str(carol.id_)),
        ("member.added", alice.id_, "user", str(carol.id_)),
        ("member.added", alice.id_, "user", str(bob.id_)),
        ("org.created", alice.id_, "organization", team),
    ]
    for reader in ("carol", "alice"):  # the owner, and the old owner who is now an admin
        response = await _audit(clustered_client, bearer(reader), team)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [(e["action"], e["actorId"], e["targetType"], e["targetId"]) for e in items] == [
            (action, str(actor), kind, target) for action, actor, kind, target in expected
        ]
        stamps = [e["occurredAt"] for e in items]
        assert stamps == sorted(stamps, reverse=True)
    items = (await _audit(clustered_client, bearer("carol"), team)).json()["items"]
    details = {e["action"]: e["details"] for e in reversed(items)}
    assert details["org.ownership_transferred"] == {"previous_owner": str(alice.id_)}
    assert details["member.left"] == {"role": "member", "api_keys_revoked": "0"}
    assert details["member.added"] == {"email": dave.email.value, "role": "member"}

    newest = await _audit(clustered_client, bearer("carol"), team, 3)
    assert [e["action"] for e in newest.json()["items"]] == [e[0] for e in expected[:3]]
    assert len((await _audit(clustered_client, bearer("carol"), team, 200)).json()["items"]) == 11
    as_member = await _audit(clustered_client, bearer("dave"), team)
    assert (as_member.status_code, _code(as_member)) == (403, "not-an-org-admin")
    for limit in (0, 201, -1, "many"):
        bad = await _audit(clustered_client, bearer("carol"), team, limit)
        assert bad.status_code == 422, limit
        assert _code(bad) == "invalid-request"

    paged: list[str] = []
    params: dict[str, str | int] = {"limit": 4}
    while True:
        page = await clustered_client.get(
            f"/api/orgs/{team}/audit", params=params, headers=bearer("carol")
        )
        assert page.status_code == 200, page.text
        paged += [e["id"] for e in page.json()["items"]]
        cursor = page.json().get("nextCursor")
        if cursor is None:
            break
        params = {"limit": 4, "cursor": cursor}
    assert paged == [e["id"] for e in items]
    for junk in ("x", "bm90LWEtY3Vyc29y", "MjAyNi0wMS0wMXxub3BlCg"):
        bad = await clustered_client.get(
            f"/api/orgs/{team}/audit", params={"cursor": junk}, headers=bearer("carol")
        )
        assert bad.status_code == 422, junk
        assert bad.json()["errors"][0]["field"] == "cursor"


async def test_a_key_without_org_admin_may_read_members_but_not_manage_them(
    clustered_client: Client, postgres_url: str
) -> None:
    alice = await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)
    plain, _ = await _make_key(clustered_client, "alice", team, ["settings:read"])

    refused = [
        await _add(clustered_client, plain, team, carol.email.value),
        await _patch(clustered_client, plain, team, bob.id_, "admin"),
        await _transfer(clustered_client, plain, team, bob.id_),
        await _audit(clustered_client, plain, team),
    ]

    assert [(r.status_code, _code(r)) for r in refused] == [(403, "missing-scope")] * 4
    listed = await clustered_client.get(f"/api/orgs/{team}/members", headers=plain)
    assert listed.status_code == 200
    assert await _roles(clustered_client, "alice", team) == {
        str(alice.id_): "owner",
        str(bob.id_): "member",
    }

    admin_key, _ = await _make_key(clustered_client, "alice", team, ["org:admin"])
    added = await _add(clustered_client, admin_key, team, carol.email.value)
    assert added.status_code == 201, added.text
    assert added.json()["userId"] == str(carol.id_)
    newest = (await _audit(clustered_client, admin_key, team, 1)).json()["items"]
    assert [(e["action"], e["actorId"]) for e in newest] == [("member.added", str(alice.id_))]


async def test_a_member_cannot_give_a_key_org_admin_that_their_role_lacks(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    team = await _create_org(clustered_client, "alice")
    await _added(clustered_client, "alice", team, bob)

    response = await clustered_client.post(
        "/api/keys",
        json={"name": "ci", "scopes": ["org:admin"]},
        headers={**bearer("bob"), "X-Org-Id": team},
    )
    assert (response.status_code, _code(response)) == (403, "permission-denied")

    # An admin's org:admin key follows the role: after a demotion it adds nobody.
    assert (await _patch(clustered_client, bearer("alice"), team, bob.id_, "admin")).is_success
    admin_key, _ = await _make_key(clustered_client, "bob", team, ["org:admin"])
    assert (await _patch(clustered_client, bearer("alice"), team, bob.id_, "member")).is_success
    demoted = await _add(clustered_client, admin_key, team, carol.email.value)
    assert (demoted.status_code, _code(demoted)) == (403, "not-an-org-admin")


async def test_a_key_bound_to_one_org_gets_404_on_the_members_of_another(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    first = await _create_org(clustered_client, "alice", "First")
    second = await _create_org(clustered_client, "alice", "Second")
    await _added(clustered_client, "alice", second, bob)
    with_key, _ = await _make_key(clustered_client, "alice", first, ["org:admin"])

    attempts = [
        await clustered_client.get(f"/api/orgs/{second}/members", headers=with_key),
        await _add(clustered_client, with_key, second, "bob@example.com", "admin"),
        await _patch(clustered_client, with_key, second, bob.id_, "admin"),
        await _remove(clustered_client, with_key, second, bob.id_),
        await _transfer(clustered_client, with_key, second, bob.id_),
        await _audit(clustered_client, with_key, second),
        await clustered_client.get(f"/api/orgs/{second}", headers=with_key),
        await clustered_client.get(
            f"/api/orgs/{second}/members", headers={**with_key, "X-Org-Id": second}
        ),
    ]

    assert [(r.status_code, _code(r)) for r in attempts] == [(404, "org-not-found")] * 8
    for response in attempts:
        assert bob.email.value not in response.text
    assert (await _roles(clustered_client, "alice", second))[str(bob.id_)] == "member"
    own = await clustered_client.get(f"/api/orgs/{first}/members", headers=with_key)
    assert own.status_code == 200


async def test_removing_someone_else_with_a_key_needs_org_admin(
    clustered_client: Client, postgres_url: str
) -> None:
    for subject in ("olga", "pete"):
        await add_user(postgres_url, subject)
    client = clustered_client
    team = (await client.post("/api/orgs", json={"name": "Keys"}, headers=bearer("olga"))).json()
    added = await client.post(
        f"/api/orgs/{team['id']}/members",
        json={"email": "pete@example.com"},
        headers=bearer("olga"),
    )
    pete = added.json()["userId"]
    in_team = {**bearer("olga"), "X-Org-Id": team["id"]}
    plain = (await client.post("/api/keys", json={"name": "k"}, headers=in_team)).json()
    refused = await client.delete(
        f"/api/orgs/{team['id']}/members/{pete}",
        headers={"Authorization": f"Bearer {plain['token']}"},
    )
    patched = await client.patch(
        f"/api/orgs/{team['id']}/members/{pete}", json={"role": "admin"}, headers=bearer("olga")
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing-scope"
    assert patched.status_code == 204
