"""Tenant isolation as a state machine: random membership histories against a plain model.

Hypothesis drives the real HTTP API of the clustered binding (PostgreSQL, Redis) with four
users who create organizations, add, promote, demote, remove and transfer to each other, leave,
make API keys, use and revoke them, and read orgs, members and audit logs. A small model says
who belongs where with which role, which keys live and what each audit log holds. Every
response's status (and problem code) must be the one the model predicts, and after every step
each user and each key sees exactly the model's world and nothing of anyone else's: no foreign
org id, user id or email in any body, 404 for every org one is not (or no longer) in, 401 for
every dead key on every route.
"""

import asyncio
import json
import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, ClassVar

import asyncpg
import pytest
from httpx import Response
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from entrypoints.ioc import create_app
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    TEST_DATABASE_PREFIX,
    clustered_settings,
    drop_test_database,
)
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SUBJECTS = ("u0", "u1", "u2", "u3")
GHOST = len(SUBJECTS)
"""Index of an email address nobody has signed in with."""
GHOST_EMAIL = "ghost@example.com"
UNKNOWN_ORG = "01a20000-0000-7000-8000-000000000000"
MAX_TEAMS = 2
MAX_KEYS = 8
RANK = {"owner": 0, "admin": 1, "member": 2}

users = st.integers(0, len(SUBJECTS) - 1)
anyone = st.integers(0, GHOST)
"""A user, or the ghost."""
who = st.integers(0, 10)
"""Resolved against an org by ``_pick``: any user, or someone in the org with a given role."""
orgs = st.integers(0, 9)
"""Resolved by ``_org``: mostly a team, now and then a personal org or one that does not exist."""
roles = st.sampled_from(("member", "admin", "owner"))
keys = st.integers(0, MAX_KEYS - 1)


@dataclass(frozen=True, slots=True)
class Person:
    subject: str
    id_: str
    email: str


@dataclass(slots=True)
class Org:
    id_: str
    personal: bool
    members: dict[int, str] = field(default_factory=dict)
    """User index to role."""
    ever: set[int] = field(default_factory=set)
    """Everyone who ever belonged: their ids and emails may show in what members read."""
    audit: list[tuple[str, str, str]] = field(default_factory=list)
    """(action, actor id, target id), oldest first."""

    def join(self, user: int, role: str) -> None:
        self.members[user] = role
        self.ever.add(user)


@dataclass(slots=True)
class Key:
    id_: str
    token: str
    user: int
    org: Org
    admin: bool
    """Made with ``org:admin`` (else with ``settings:read`` only)."""
    live: bool = True

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


Expected = tuple[int, str | None]
"""A status and, for a problem, its code."""


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _database_from(template_url: str) -> str:
    """A copy of the migrated template, as the ``postgres_url`` fixture makes one per test."""
    template = make_url(template_url).database
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return make_url(template_url).set(database=name).render_as_string(hide_password=False)


async def _add_users(url: str) -> list[Person]:
    people = []
    for subject in SUBJECTS:
        user = await add_user(url, subject)
        people.append(Person(subject, str(user.id_), user.email.value))
    return people


class TenantIsolation(RuleBasedStateMachine):
    """One example: a fresh copy of the migrated database, four users, one app."""

    template_url: ClassVar[str] = ""
    """The migrated database each example copies; the test sets it on a subclass."""

    def __init__(self) -> None:
        super().__init__()
        self._stack = ExitStack()
        try:
            url = _database_from(self.template_url)
            self._stack.callback(drop_test_database, url)
            self.people = asyncio.run(_add_users(url))
            app = create_app(clustered_settings(url), BearerSubjectAuth())
            self.client: TestClient[Litestar] = self._stack.enter_context(TestClient(app))
        except BaseException:
            self._stack.close()
            raise
        self.teams: list[Org] = []
        self.personal: list[Org] = []
        self.keys: list[Key] = []
        self.checks = 0
        for index in range(len(SUBJECTS)):
            [mine] = self._ok(self._session(index, "GET", "/api/orgs"))["items"]
            assert mine["personal"] is True
            org = Org(mine["id"], personal=True)
            org.join(index, "owner")
            self.personal.append(org)

    def teardown(self) -> None:
        self._stack.close()

    # --- talking to the server --------------------------------------------------------------

    def _session(
        self,
        user: int,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A request as ``user`` signed in (the ``BearerSubjectAuth`` stand-in)."""
        all_headers = {**bearer(SUBJECTS[user]), **(headers or {})}
        return self.client.request(method, path, json=body, headers=all_headers)

    def _with_key(
        self, key: Key, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Response:
        return self.client.request(method, path, json=body, headers=key.headers)

    @staticmethod
    def _ok(response: Response) -> dict[str, Any]:
        assert response.status_code == 200, (response.request.url, response.text)
        body: dict[str, Any] = response.json()
        return body

    @staticmethod
    def _expect(response: Response, expected: Expected) -> None:
        status, code = expected
        where = f"{response.request.method} {response.request.url.path}"
        assert response.status_code == status, (where, expected, response.text)
        if code is not None:
            assert response.json()["code"] == code, (where, expected, response.text)

    def _assert_no_leak(self, response: Response, user: int, bound: Org | None = None) -> None:
        """Nothing in the body names an org, or a person, the caller has no business with.

        The caller (``user``, or ``user``'s key bound to ``bound``) may see the orgs it is in,
        and the people who ever belonged to one of them. A problem's ``instance`` echoes the
        caller's own request path, so it does not count.
        """
        if not response.content:
            return
        body = response.json()
        if isinstance(body, dict):
            body.pop("instance", None)
        text = json.dumps(body)
        seen = (
            [bound]
            if bound is not None
            else [o for o in self.teams + self.personal if user in o.members]
        )
        visible_orgs = {o.id_ for o in seen}
        visible_people = {user}.union(*(o.ever for o in seen))
        where = (SUBJECTS[user], response.request.method, response.request.url.path, text)
        for org in self.teams + self.personal:
            if org.id_ not in visible_orgs:
                assert org.id_ not in text, where
        for index, person in enumerate(self.people):
            if index not in visible_people:
                assert person.id_ not in text, where
                assert person.email not in text, where

    # --- the model ----------------------------------------------------------------------------

    def _org(self, choice: int) -> Org:
        """A team, a personal org, or one that does not exist (no members, never stored)."""
        if choice < 8 and self.teams:
            return self.teams[choice % len(self.teams)]
        if choice < 9:
            return self.personal[choice % len(self.personal)]
        return Org(UNKNOWN_ORG, personal=False)

    @staticmethod
    def _pick(raw: int, org: Org) -> int:
        """User ``raw`` (0-3), else ``org``'s owner (4), one of its admins (5-7) or one of its
        plain members (8-10), falling back to anyone in it: rules then meet the people who may
        act about as often as those who may not."""
        if raw < len(SUBJECTS):
            return raw
        wanted = "owner" if raw < 5 else "admin" if raw < 8 else "member"
        for pool in (
            sorted(u for u, role in org.members.items() if role == wanted),
            sorted(org.members),
        ):
            if pool:
                return pool[raw % len(pool)]
        return raw % len(SUBJECTS)

    def _email(self, person: int, shout: bool) -> str:
        email = GHOST_EMAIL if person == GHOST else self.people[person].email
        return email.upper() if shout else email

    def _record(self, org: Org, action: str, actor: int, target: str) -> None:
        org.audit.append((action, self.people[actor].id_, target))

    @staticmethod
    def _predict_add(org: Org, actor: int, person: int, role: str) -> Expected:
        actor_role = org.members.get(actor)
        if actor_role is None:
            return 404, "org-not-found"
        if org.personal:
            return 403, "personal-org"
        if actor_role == "member":
            return 403, "not-an-org-admin"
        if role == "owner" or (role == "admin" and actor_role != "owner"):
            return 403, "permission-denied"
        if person == GHOST:
            return 404, "user-not-found"
        if person in org.members:
            return 409, "member-already-exists"
        return 201, None

    def _add(self, org: Org, actor: int, person: int, role: str, response: Response) -> None:
        expected = self._predict_add(org, actor, person, role)
        self._expect(response, expected)
        if expected[0] != 201:
            return
        added = self.people[person]
        member = response.json()
        assert (member["userId"], member["email"], member["role"]) == (
            added.id_,
            added.email,
            role,
        )
        org.join(person, role)
        self._record(org, "member.added", actor, added.id_)

    # --- rules ----------------------------------------------------------------------------------

    @initialize(
        founder=users,
        joiners=st.lists(
            st.tuples(users, st.sampled_from(("member", "admin"))),
            min_size=1,
            max_size=3,
            unique_by=lambda joiner: joiner[0],
        ),
        holders=st.lists(st.tuples(who, st.booleans()), max_size=2),
    )
    def first_team(
        self, founder: int, joiners: list[tuple[int, str]], holders: list[tuple[int, bool]]
    ) -> None:
        """A team to start from, with a few people added to it (or refused) and some keys, so
        that a run soon has members whose removal must take their keys with them."""
        self.create_org(founder)
        for person, role in joiners:
            self.add_member(len(SUBJECTS), 0, person, role, shout=False)
        for actor, admin in holders:
            self.create_key(actor, 0, admin)

    @precondition(lambda self: len(self.teams) < MAX_TEAMS)
    @rule(founder=users)
    def create_org(self, founder: int) -> None:
        response = self._session(founder, "POST", "/api/orgs", {"name": f"Team {len(self.teams)}"})
        self._expect(response, (201, None))
        created = response.json()
        assert (created["role"], created["personal"]) == ("owner", False)
        org = Org(created["id"], personal=False)
        org.join(founder, "owner")
        self._record(org, "org.created", founder, org.id_)
        self.teams.append(org)
        self._assert_no_leak(response, founder)

    @rule(actor=who, choice=orgs, person=anyone, role=roles, shout=st.booleans())
    def add_member(self, actor: int, choice: int, person: int, role: str, shout: bool) -> None:
        org = self._org(choice)
        actor = self._pick(actor, org)
        body = {"email": self._email(person, shout), "role": role}
        response = self._session(actor, "POST", f"/api/orgs/{org.id_}/members", body)
        self._add(org, actor, person, role, response)
        self._assert_no_leak(response, actor)

    @rule(actor=who, choice=orgs, person=who, role=roles)
    def change_role(self, actor: int, choice: int, person: int, role: str) -> None:
        org = self._org(choice)
        actor, person = self._pick(actor, org), self._pick(person, org)
        path = f"/api/orgs/{org.id_}/members/{self.people[person].id_}"
        response = self._session(actor, "PATCH", path, {"role": role})
        actor_role = org.members.get(actor)
        target_role = org.members.get(person)
        if actor_role is None:
            self._expect(response, (404, "org-not-found"))
        elif target_role is None:
            self._expect(response, (404, "member-not-found"))
        elif org.personal:
            self._expect(response, (403, "personal-org"))
        elif actor_role == "member":
            self._expect(response, (403, "not-an-org-admin"))
        elif "owner" in (target_role, role) or actor_role != "owner":
            self._expect(response, (403, "permission-denied"))
        else:
            # 2xx: today 200 with a JSON null body, where 204 would be the norm.
            assert response.is_success, (path, response.text)
            if target_role != role:
                org.members[person] = role
                self._record(org, "member.role_changed", actor, self.people[person].id_)
        self._assert_no_leak(response, actor)

    @staticmethod
    def _predict_remove(org: Org, actor: int, person: int) -> Expected:
        actor_role = org.members.get(actor)
        target_role = org.members.get(person)
        if actor_role is None:
            return 404, "org-not-found"
        if target_role is None:
            return 404, "member-not-found"
        if org.personal:
            return 403, "personal-org"
        if target_role == "owner":
            return 403, "owner-must-transfer"
        if person != actor and actor_role == "member":
            return 403, "not-an-org-admin"
        if person != actor and target_role == "admin" and actor_role != "owner":
            return 403, "permission-denied"
        return 204, None

    def _remove(self, actor: int, org: Org, person: int) -> None:
        expected = self._predict_remove(org, actor, person)
        holds_a_key = any(k.live and k.user == person and k.org is org for k in self.keys)
        if expected[0] == 204 and not holds_a_key and len(self.keys) < MAX_KEYS:
            # Whoever goes should hold a key there, for the removal to take it away.
            self._create_key(person, org, admin=False)
        path = f"/api/orgs/{org.id_}/members/{self.people[person].id_}"
        response = self._session(actor, "DELETE", path)
        self._expect(response, expected)
        if expected[0] == 204:
            del org.members[person]
            action = "member.left" if person == actor else "member.removed"
            self._record(org, action, actor, self.people[person].id_)
            for key in self.keys:
                if key.user == person and key.org is org:
                    key.live = False
        self._assert_no_leak(response, actor)

    @rule(actor=who, choice=orgs, person=who)
    def remove_member(self, actor: int, choice: int, person: int) -> None:
        org = self._org(choice)
        self._remove(self._pick(actor, org), org, self._pick(person, org))

    @rule(actor=who, choice=orgs)
    def leave(self, actor: int, choice: int) -> None:
        org = self._org(choice)
        actor = self._pick(actor, org)
        self._remove(actor, org, actor)

    @rule(actor=who, choice=orgs, person=who)
    def transfer_ownership(self, actor: int, choice: int, person: int) -> None:
        org = self._org(choice)
        actor, person = self._pick(actor, org), self._pick(person, org)
        body = {"userId": self.people[person].id_}
        response = self._session(actor, "POST", f"/api/orgs/{org.id_}/transfer", body)
        actor_role = org.members.get(actor)
        if actor_role is None:
            self._expect(response, (404, "org-not-found"))
        elif org.personal:
            self._expect(response, (403, "personal-org"))
        elif actor_role != "owner":
            self._expect(response, (403, "permission-denied"))
        elif person not in org.members:
            self._expect(response, (404, "member-not-found"))
        else:
            self._expect(response, (204, None))
            if person != actor:
                org.members[actor] = "admin"
                org.members[person] = "owner"
                self._record(org, "org.ownership_transferred", actor, self.people[person].id_)
        self._assert_no_leak(response, actor)

    @precondition(lambda self: len(self.keys) < MAX_KEYS)
    @rule(actor=who, choice=orgs, admin=st.booleans())
    def create_key(self, actor: int, choice: int, admin: bool) -> None:
        org = self._org(choice)
        self._create_key(self._pick(actor, org), org, admin)

    def _create_key(self, actor: int, org: Org, admin: bool) -> None:
        body = {
            "name": f"key {len(self.keys)}",
            "scopes": ["org:admin" if admin else "settings:read"],
        }
        response = self._session(actor, "POST", "/api/keys", body, {"X-Org-Id": org.id_})
        role = org.members.get(actor)
        if role is None:
            self._expect(response, (404, "org-not-found"))
        elif admin and role == "member":
            self._expect(response, (403, "permission-denied"))
        else:
            self._expect(response, (201, None))
            created = response.json()
            assert created["key"]["orgId"] == org.id_
            key = Key(created["key"]["id"], created["token"], actor, org, admin)
            self.keys.append(key)
            self._record(org, "api_key.created", actor, key.id_)
        self._assert_no_leak(response, actor)

    @precondition(lambda self: len(self.keys) > 0)
    @rule(choice=keys, person=anyone, role=roles)
    def add_member_with_key(self, choice: int, person: int, role: str) -> None:
        key = self.keys[choice % len(self.keys)]
        body = {"email": self._email(person, shout=False), "role": role}
        response = self._with_key(key, "POST", f"/api/orgs/{key.org.id_}/members", body)
        if not key.live:
            self._expect(response, (401, "not-authenticated"))
        elif not key.admin:
            self._expect(response, (403, "missing-scope"))
        else:
            self._add(key.org, key.user, person, role, response)
        self._assert_no_leak(response, key.user, bound=key.org)

    @precondition(lambda self: len(self.keys) > 0)
    @rule(actor=who, choice=keys)
    def revoke_key(self, actor: int, choice: int) -> None:
        key = self.keys[choice % len(self.keys)]
        actor = actor if actor < len(SUBJECTS) else key.user
        response = self._session(actor, "DELETE", f"/api/keys/{key.id_}")
        if actor != key.user:
            self._expect(response, (404, "api-key-not-found"))
        else:
            self._expect(response, (204, None))
            if key.live:
                key.live = False
                self._record(key.org, "api_key.revoked", actor, key.id_)
        self._assert_no_leak(response, actor)

    @rule(actor=who, choice=orgs)
    def read_org_and_members(self, actor: int, choice: int) -> None:
        org = self._org(choice)
        self._check_reads(self._pick(actor, org), org)

    @rule(actor=who, choice=orgs, limit=st.integers(1, 12))
    def read_audit(self, actor: int, choice: int, limit: int) -> None:
        org = self._org(choice)
        actor = self._pick(actor, org)
        path = f"/api/orgs/{org.id_}/audit?limit={limit}"
        response = self._session(actor, "GET", path)
        role = org.members.get(actor)
        if role is None:
            self._expect(response, (404, "org-not-found"))
        elif role == "member":
            self._expect(response, (403, "not-an-org-admin"))
        else:
            got = [(e["action"], e["actorId"], e["targetId"]) for e in self._ok(response)["items"]]
            assert got == org.audit[::-1][:limit], path
        self._assert_no_leak(response, actor)

    # --- what must hold after every step ----------------------------------------------------

    def _check_reads(self, user: int, org: Org, *, outsider_members: bool = True) -> None:
        """``user`` reads ``org`` and its members: the model's truth, or 404 to outsiders."""
        read = self._session(user, "GET", f"/api/orgs/{org.id_}")
        self._assert_no_leak(read, user)
        role = org.members.get(user)
        if role is not None:
            assert (self._ok(read)["id"], read.json()["role"]) == (org.id_, role)
            self._check_members_list(user, org)
            return
        self._expect(read, (404, "org-not-found"))
        if outsider_members:
            members = self._session(user, "GET", f"/api/orgs/{org.id_}/members")
            self._expect(members, (404, "org-not-found"))
            assert members.json()["detail"] == read.json()["detail"]
            self._assert_no_leak(members, user)

    def _check_members_list(self, user: int, org: Org) -> None:
        response = self._session(user, "GET", f"/api/orgs/{org.id_}/members")
        got = [(m["userId"], m["email"], m["role"]) for m in self._ok(response)["items"]]
        ranked = sorted(org.members.items(), key=lambda item: (RANK[item[1]], item[0]))
        assert got == [(self.people[u].id_, self.people[u].email, r) for u, r in ranked]
        self._assert_no_leak(response, user)

    @invariant()
    def everyone_sees_exactly_their_own_world(self) -> None:
        self.checks += 1
        for user in range(len(SUBJECTS)):
            listed = self._ok(self._session(user, "GET", "/api/orgs"))["items"]
            got = {(o["id"], o["role"], o["personal"]) for o in listed}
            want = {
                (o.id_, o.members[user], o.personal)
                for o in self.teams + self.personal
                if user in o.members
            }
            assert got == want, SUBJECTS[user]
            for org in self.teams:
                read = self._session(user, "GET", f"/api/orgs/{org.id_}")
                role = org.members.get(user)
                if role is None:
                    self._expect(read, (404, "org-not-found"))
                else:
                    assert self._ok(read)["role"] == role
                self._assert_no_leak(read, user)
        for org in self.teams:  # one member reads the list; each member in turn
            readers = sorted(org.members)
            if readers:
                self._check_members_list(readers[self.checks % len(readers)], org)

    @invariant()
    def dead_keys_open_nothing_and_live_keys_only_their_org(self) -> None:
        for index, key in enumerate(self.keys):
            if key.live:
                assert key.user in key.org.members, "the model let a key outlive its member"
            # Each check tries another route, so every key meets every route over a run.
            route = (self.checks + index) % 4
            path = (
                "/api/orgs",
                f"/api/orgs/{key.org.id_}/members",
                "/api/keys",
                "/api/user/me",
            )[route]
            response = self._with_key(key, "GET", path)
            if not key.live:
                self._expect(response, (401, "not-authenticated"))
                continue
            if route == 2:
                # managing keys is a person's act: a live key is refused, whatever its scopes;
                # its maker sees it, and only their keys of that org
                self._expect(response, (403, "credential-not-allowed"))
                mine = self._session(key.user, "GET", "/api/keys", None, {"X-Org-Id": key.org.id_})
                assert {(k["id"], k["status"]) for k in self._ok(mine)["items"]} == {
                    (k.id_, "active" if k.live else "revoked")
                    for k in self.keys
                    if k.user == key.user and k.org is key.org
                }
                continue
            body = self._ok(response)
            self._assert_no_leak(response, key.user, bound=key.org)
            if route == 0:
                assert [(o["id"], o["role"]) for o in body["items"]] == [
                    (key.org.id_, key.org.members[key.user])
                ]
            elif route == 1:
                assert {m["userId"] for m in body["items"]} == {
                    self.people[u].id_ for u in key.org.members
                }
            else:
                assert body["id"] == self.people[key.user].id_
            for org in self.teams + self.personal:
                if org is not key.org and key.user in org.members and route == 1:
                    other = self._with_key(key, "GET", f"/api/orgs/{org.id_}/members")
                    self._expect(other, (404, "org-not-found"))
                    break


def test_no_tenant_ever_sees_or_keeps_what_is_not_theirs(postgres_template: str) -> None:
    class OnThisSessionsTemplate(TenantIsolation):
        template_url = postgres_template

    run_state_machine_as_test(
        OnThisSessionsTemplate,
        settings=settings(max_examples=10, stateful_step_count=30, deadline=None),
    )
