"""Conversations of two members of one organization over HTTP on the clustered binding: each
lists and deletes only their own, and the organization's limit counts both members' starts."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.scripted import Finish, ScriptedWorld
from entrypoints.settings import Settings
from tests.conftest import NO_RATE_LIMITS, REDIS_URL, TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.integration.http.test_conversations import ScriptedRuntimeOverride, configure_llm

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

Headers = dict[str, str]


@dataclass(frozen=True, slots=True)
class Team:
    client: Client
    owner: Headers
    member: Headers


@pytest.fixture
def world() -> ScriptedWorld:
    return ScriptedWorld(default=Finish(message="All done"))


def team_settings(url: str, **env: str) -> Settings:
    return Settings.from_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": url,
            "MAESTRIST_REDIS_URL": REDIS_URL,
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
            **NO_RATE_LIMITS,
            **env,
        }
    )


@asynccontextmanager
async def team_of_two(url: str, world: ScriptedWorld, **env: str) -> AsyncIterator[Team]:
    """Alice's organization with Bob as a member, both acting in it with an LLM configured."""
    settings = team_settings(url, **env)
    await add_user(url, "alice")
    bob = await add_user(url, "bob")
    async with serve(settings, BearerSubjectAuth(), ScriptedRuntimeOverride(world)) as client:
        made = await client.post("/api/orgs", json={"name": "Team"}, headers=bearer("alice"))
        assert made.status_code == 201, made.text
        org = made.json()["id"]
        added = await client.post(
            f"/api/orgs/{org}/members", json={"email": bob.email.value}, headers=bearer("alice")
        )
        assert added.status_code == 201, added.text
        team = Team(
            client, {**bearer("alice"), "X-Org-Id": org}, {**bearer("bob"), "X-Org-Id": org}
        )
        for actor in (team.owner, team.member):
            await configure_llm(client, actor)
        yield team


async def started(client: Client, headers: Headers, title: str) -> str:
    answer = await client.post("/api/conversations", json={"title": title}, headers=headers)
    assert answer.status_code == 201, answer.text
    cid: str = answer.json()["id"]
    return cid


async def listed(client: Client, headers: Headers) -> list[dict[str, Any]]:
    answer = await client.get("/api/conversations", headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_teammates_list_and_delete_only_their_own_conversations(
    postgres_url: str, world: ScriptedWorld
) -> None:
    async with team_of_two(postgres_url, world) as team:
        client = team.client
        alices = await started(client, team.owner, "Alice's")
        bobs = await started(client, team.member, "Bob's")

        assert [c["id"] for c in await listed(client, team.owner)] == [alices]
        assert [c["id"] for c in await listed(client, team.member)] == [bobs]

        for actor, other in ((team.owner, bobs), (team.member, alices)):
            refused = await client.delete(f"/api/conversations/{other}", headers=actor)
            assert refused.status_code == 404, refused.text
            assert refused.json()["code"] == "conversation-not-found"
        assert [c.deleted for c in world.conversations.values()] == [False, False]
        for actor, own, title in ((team.owner, alices, "Alice's"), (team.member, bobs, "Bob's")):
            kept = await client.get(f"/api/conversations/{own}", headers=actor)
            assert (kept.status_code, kept.json()["title"]) == (200, title)

        deleted = await client.delete(f"/api/conversations/{bobs}", headers=team.member)
        assert deleted.status_code == 204, deleted.text
        assert await listed(client, team.member) == []
        assert [c["id"] for c in await listed(client, team.owner)] == [alices]


async def test_the_per_org_limit_counts_every_members_starts(
    postgres_url: str, world: ScriptedWorld
) -> None:
    """A limit of 2 in the organization and none per member: one start each fills it, and a
    third start is refused whoever asks."""
    async with team_of_two(postgres_url, world, MAESTRIST_CONVERSATION_LIMIT_PER_ORG="2") as team:
        client = team.client
        first = await started(client, team.owner, "One")
        second = await started(client, team.member, "Two")
        for actor in (team.owner, team.member):
            refused = await client.post("/api/conversations", json={}, headers=actor)
            assert refused.status_code == 409, refused.text
            assert refused.json()["code"] == "conversation-limit-reached"
            assert refused.json()["limit"] == 2
        assert {str(cid) for cid in world.conversations} == {first, second}
