"""Analytics and experiments through the whole server, the real PostHog SDK talking to the
loopback stand-in: a person's first consent reports their sign-up, dated at their account; a
consenting person's conversation is reported started and finished with its variant, and never
their email, LLM key or the secret key; without consent nothing is sent (checked after a
flush); PostHog down fails no request and experiments take their defaults; a conversation's
variant, shown by the API, survives a restart on SQLite and PostgreSQL and is kept on resume
when the flag changed; another tenant's is not found."""

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from dishka import Provider

from adapters.posthog import PostHogAnalytics
from adapters.scripted import Finish, ScriptedWorld, Slow
from application.ports.feature_flags import FeatureFlags
from domain.identity.entities import UserId
from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.fakes.feature_flags import FlagDefinition
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.integration.http.test_conversations import (
    ScriptedRuntimeOverride,
    embedded,
    start,
    status_is,
)
from tests.support.polling import until
from tests.support.posthog import PostHogReceiver, closed_port_url, run_posthog

Headers = dict[str, str]
LLM_KEY = "sk-test-llm-key-never-in-analytics"
LONG = FlagDefinition(key="prompt", variants={"long": 100})
SHORT = FlagDefinition(key="prompt", variants={"short": 100})


def posthog_env(host: str, receiver: PostHogReceiver | None = None) -> dict[str, str]:
    project = receiver or PostHogReceiver()
    return {
        "MAESTRIST_POSTHOG_KEY": project.project_key,
        "MAESTRIST_POSTHOG_SECRET_KEY": project.secret_key,
        "MAESTRIST_POSTHOG_HOST": host,
        "MAESTRIST_POSTHOG_POLL_INTERVAL": "1",
        "MAESTRIST_EXPERIMENTS": "prompt=standard,unflagged=off",
    }


def clustered(database_url: str, env: dict[str, str]) -> Settings:
    """The clustered test server's settings with the analytics ones of ``env``."""
    analytics = Settings.from_env(env).analytics
    return clustered_settings(database_url).with_changes(analytics=analytics)


@pytest.fixture
def receiver() -> Iterator[PostHogReceiver]:
    with run_posthog(LONG) as running:
        yield running


@pytest.fixture
def world() -> ScriptedWorld:
    return ScriptedWorld(default=Finish(message="All done"))


async def posthog_of(client: Client) -> PostHogAnalytics:
    found = await client.app.state.dishka_container.get(FeatureFlags)
    assert isinstance(found, PostHogAnalytics)
    return found


async def flags_follow(client: Client, receiver: PostHogReceiver, *flags: FlagDefinition) -> None:
    """Serve ``flags``, and return once the server evaluates them (a canary of its own shows
    this set of definitions was polled)."""
    canary = FlagDefinition(key="canary", variants={uuid4().hex: 100})
    receiver.define(*flags, canary)
    posthog = await posthog_of(client)
    (expected,) = canary.variants
    await until(
        lambda: posthog.variant("canary", UserId(uuid4())) == expected, "the definitions polled"
    )


async def flushed(client: Client, receiver: PostHogReceiver) -> list[dict[str, Any]]:
    """Everything the server sent, once what it queued is sent."""
    await asyncio.to_thread((await posthog_of(client)).flush)
    return receiver.captured()


async def prepare(client: Client, headers: Headers, *, consent: bool) -> str:
    """The caller's LLM and consent set; their user id."""
    body = {"llmModel": "openai/gpt-4o", "llmApiKey": LLM_KEY, "analyticsConsent": consent}
    answer = await client.post("/api/settings", json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return str((await client.get("/api/user/me", headers=headers)).json()["id"])


async def experiments_of(client: Client, cid: str, headers: Headers | None = None) -> Any:
    answer = await client.get(f"/api/conversations/{cid}", headers=headers or {})
    assert answer.status_code == 200, answer.text
    return answer.json()["experiments"]


async def test_a_consenting_persons_conversation_is_reported_with_its_variant(
    tmp_path: Path, receiver: PostHogReceiver, world: ScriptedWorld
) -> None:
    settings = embedded(tmp_path, **posthog_env(receiver.url, receiver))
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await flags_follow(client, receiver, LONG)
        user_id = await prepare(client, {}, consent=True)
        made = await start(client, message="Hello")
        assert "experiments" not in made  # shown where one conversation is read
        await status_is(client, made["id"], "finished")
        assert await experiments_of(client, made["id"]) == {"prompt": "long", "unflagged": "off"}
        listed = (await client.get("/api/conversations")).json()["items"]
        assert [c["id"] for c in listed] == [made["id"]]
        sent = await flushed(client, receiver)
        me = (await client.get("/api/user/me")).json()
        email, created_at = me["email"], me["createdAt"]

    by_name = {e["event"]: e for e in sent}
    assert set(by_name) == {"user_signed_up", "conversation_started", "conversation_finished"}
    signed_up = by_name.pop("user_signed_up")
    assert signed_up["distinct_id"] == user_id
    assert datetime.fromisoformat(signed_up["timestamp"]) == datetime.fromisoformat(created_at)
    for event in by_name.values():
        assert event["distinct_id"] == user_id
        properties = event["properties"]
        assert properties["consented"] is True
        assert properties["conversation_id"] == made["id"]
        assert (properties["$feature/prompt"], properties["$feature/unflagged"]) == (
            "long",
            "off",
        )
    assert by_name["conversation_finished"]["properties"]["status"] == "finished"
    for body in receiver.bodies:
        for never in (email, LLM_KEY, receiver.secret_key, "Hello"):
            assert never.encode() not in body, never


async def test_without_consent_nothing_is_sent(
    tmp_path: Path, receiver: PostHogReceiver, world: ScriptedWorld
) -> None:
    settings = embedded(tmp_path, **posthog_env(receiver.url, receiver))
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await flags_follow(client, receiver, LONG)
        await prepare(client, {}, consent=False)
        cid = (await start(client, message="Hello"))["id"]
        await status_is(client, cid, "finished")
        assert await experiments_of(client, cid) == {"prompt": "long", "unflagged": "off"}
        assert await flushed(client, receiver) == []
        # the same server sends once consent is given: the flush above had nothing to send
        await prepare(client, {}, consent=True)
        await status_is(client, (await start(client, message="Again"))["id"], "finished")
        assert {e["event"] for e in await flushed(client, receiver)} == {
            "conversation_started",
            "conversation_finished",
        }


async def test_posthog_down_fails_nothing_and_experiments_take_their_defaults(
    tmp_path: Path, world: ScriptedWorld
) -> None:
    settings = embedded(tmp_path, **posthog_env(closed_port_url()))
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await prepare(client, {}, consent=True)
        cid = (await start(client, message="Hello"))["id"]
        await status_is(client, cid, "finished")
        assert await experiments_of(client, cid) == {"prompt": "standard", "unflagged": "off"}
        await asyncio.to_thread((await posthog_of(client)).flush)
        assert (await client.get(f"/api/conversations/{cid}")).status_code == 200


async def test_without_a_posthog_key_experiments_take_their_defaults(
    tmp_path: Path, world: ScriptedWorld
) -> None:
    settings = embedded(tmp_path, MAESTRIST_EXPERIMENTS="prompt=standard")
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await prepare(client, {}, consent=True)
        cid = (await start(client, message="Hello"))["id"]
        await status_is(client, cid, "finished")
        assert await experiments_of(client, cid) == {"prompt": "standard"}


@pytest.fixture(params=["embedded", pytest.param("clustered", marks=pytest.mark.postgres)])
def binding(
    request: pytest.FixtureRequest, tmp_path: Path, receiver: PostHogReceiver
) -> tuple[Settings, list[Provider], Headers]:
    """SQLite (embedded) or PostgreSQL (clustered), reporting to the stand-in."""
    env = posthog_env(receiver.url, receiver)
    if request.param == "embedded":
        return embedded(tmp_path, **env), [], {}
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(add_user(url, "alice"))
    return clustered(url, env), [BearerSubjectAuth()], bearer("alice")


async def test_a_variant_survives_a_restart_and_is_kept_on_resume_when_the_flag_changed(
    binding: tuple[Settings, list[Provider], Headers],
    receiver: PostHogReceiver,
    world: ScriptedWorld,
) -> None:
    settings, providers, headers = binding
    world.script(Slow(seconds=30, then=Finish()))
    async with serve(settings, *providers, ScriptedRuntimeOverride(world)) as client:
        await flags_follow(client, receiver, LONG)
        user_id = await prepare(client, headers, consent=True)
        cid = (await start(client, headers, message="Take your time"))["id"]
        await status_is(client, cid, "running", headers)
        answer = await client.post(f"/api/conversations/{cid}/stop", headers=headers)
        assert answer.status_code == 202
        await status_is(client, cid, "stopped", headers)
        assert (await experiments_of(client, cid, headers))["prompt"] == "long"
        first_server = await flushed(client, receiver)

    receiver.define(SHORT)
    async with serve(settings, *providers, ScriptedRuntimeOverride(world)) as client:
        await flags_follow(client, receiver, SHORT)
        assert await experiments_of(client, cid, headers) == {"prompt": "long", "unflagged": "off"}
        answer = await client.post(f"/api/conversations/{cid}/resume", headers=headers)
        assert answer.status_code == 202
        await status_is(client, cid, "finished", headers)
        assert (await experiments_of(client, cid, headers))["prompt"] == "long"
        fresh = (await start(client, headers, message="New one"))["id"]
        assert (await experiments_of(client, fresh, headers))["prompt"] == "short"
        await status_is(client, fresh, "finished", headers)
        everything = await flushed(client, receiver)

    assert everything[: len(first_server)] == first_server
    endings = [
        (
            e["properties"]["conversation_id"],
            e["properties"]["status"],
            e["properties"]["$feature/prompt"],
        )
        for e in everything
        if e["event"] == "conversation_finished"
    ]
    assert sorted(endings) == sorted(
        [(cid, "stopped", "long"), (cid, "finished", "long"), (fresh, "finished", "short")]
    )
    assert {e["distinct_id"] for e in everything} == {user_id}


@pytest.mark.postgres
async def test_another_tenants_conversation_and_its_variants_are_not_found(
    postgres_url: str, receiver: PostHogReceiver, world: ScriptedWorld
) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    settings = clustered(postgres_url, posthog_env(receiver.url, receiver))
    async with serve(settings, BearerSubjectAuth(), ScriptedRuntimeOverride(world)) as client:
        await prepare(client, bearer("alice"), consent=True)
        cid = (await start(client, bearer("alice"), message="Mine"))["id"]
        assert (await experiments_of(client, cid, bearer("alice")))["unflagged"] == "off"
        answer = await client.get(f"/api/conversations/{cid}", headers=bearer("bob"))
        assert answer.status_code == 404, answer.text
        assert "unflagged" not in answer.text
