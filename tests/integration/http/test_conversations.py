"""Conversations over HTTP and the websocket, on the scripted runtime: start, message, live
events, finished; pause, stop and resume; two sockets see the same sequence; another tenant's
conversation is not found on any route or socket; the concurrency limits; the LLM check."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from dishka import Provider, Scope, provide
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import WebSocketTestSession

from adapters.scripted import Fail, Finish, ScriptedRuntime, ScriptedWorld, Slow, ToolCall
from application.ports.conversation_runtime import ConversationRuntime
from domain.conversations.value_objects import ConversationId
from domain.identity.scopes import ALL_SCOPES
from entrypoints.http.conversations import SocketPolicy
from entrypoints.settings import Settings
from tests.conftest import (
    NO_RATE_LIMITS,
    REDIS_URL,
    TEST_ENCRYPTION_KEYS,
    TEST_SIGNING_KEYS,
    clustered_settings,
)
from tests.db import add_user, sqla_ports
from tests.factories import create_api_key
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.integration.http.conftest import BearerSubjectAuth, Client, bearer, serve
from tests.support.concurrent_app import serve_concurrently

Headers = dict[str, str]
Frame = dict[str, Any]


class ScriptedRuntimeOverride(Provider):
    def __init__(self, world: ScriptedWorld, heartbeat_s: float = 15.0) -> None:
        super().__init__()
        self.world = world
        self.heartbeat_s = heartbeat_s

    @provide(scope=Scope.APP, override=True)
    def runtime(self) -> ConversationRuntime:
        return ScriptedRuntime(self.world)

    @provide(scope=Scope.APP, override=True)
    def socket_policy(self) -> SocketPolicy:
        return SocketPolicy(
            heartbeat_s=self.heartbeat_s, allowed_origins=frozenset({"https://app.example.com"})
        )


def embedded(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "MAESTRIST_DATA_DIR": str(tmp_path),
            "MAESTRIST_ACCESS_LOG": "false",
            **NO_RATE_LIMITS,
            **env,
        }
    )


@pytest.fixture
def world() -> ScriptedWorld:
    return ScriptedWorld(default=Finish(message="All done"))


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("local")
        fake.add_repo("acme/widgets", members=["local"])
        yield fake


@pytest.fixture
async def client(tmp_path: Path, world: ScriptedWorld, github: FakeGitHub) -> AsyncIterator[Client]:
    settings = embedded(tmp_path, MAESTRIST_GITHUB_URL=github.base_url)
    async with serve(settings, ScriptedRuntimeOverride(world, 0.5)) as found:
        await configure_llm(found)
        connected = await found.put(
            "/api/user/git-providers/github", json={"token": github.issue_token("local")}
        )
        assert connected.status_code == 200, connected.text
        yield found


async def configure_llm(client: httpx.AsyncClient, headers: Headers | None = None) -> None:
    answer = await client.post(
        "/api/settings",
        json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-test-not-real"},
        headers=headers or {},
    )
    assert answer.status_code in (200, 201), answer.text


async def start(client: Client, headers: Headers | None = None, **body: object) -> dict[str, Any]:
    answer = await client.post("/api/conversations", json=body, headers=headers or {})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"/api/conversations/{created['id']}"
    return created


WAIT_S = 30
"""How long a poll waits for what must happen: generous, for a loaded machine."""


async def until(
    client: Client,
    cid: str,
    check: Callable[[dict[str, Any]], bool],
    headers: Headers | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                found = (
                    await client.get(f"/api/conversations/{cid}", headers=headers or {})
                ).json()
                if check(found):
                    return found
                await asyncio.sleep(0.025)
    except TimeoutError:
        raise AssertionError(f"conversation never got there: {found}") from None


async def until_event(
    client: Client, cid: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first stored event of ``cid`` that passes ``check``, once there is one."""
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                answer = await client.get(
                    f"/api/conversations/{cid}/events", params={"limit": 1000}
                )
                found: list[dict[str, Any]] = [
                    event for event in answer.json()["items"] if check(event)
                ]
                if found:
                    return found[0]
                await asyncio.sleep(0.025)
    except TimeoutError:
        raise AssertionError(f"no such event in {cid}") from None


async def status_is(
    client: Client, cid: str, status: str, headers: Headers | None = None
) -> dict[str, Any]:
    return await until(client, cid, lambda c: c["status"] == status, headers)


async def frame(ws: WebSocketTestSession, *, heartbeats: bool = False) -> Frame:
    while True:
        found: Frame = json.loads(await asyncio.to_thread(ws.receive_text, timeout=5))
        if heartbeats or found["type"] != "heartbeat":
            return found


async def until_closed(ws: WebSocketTestSession) -> WebSocketDisconnect:
    """How the socket ends, past the event frames before."""
    with pytest.raises(WebSocketDisconnect) as closed:
        await _events_forever(ws)
    return closed.value


async def _events_forever(ws: WebSocketTestSession) -> None:
    while True:
        assert (await frame(ws))["type"] == "event"


async def refusal(client: Client, url: str, headers: Headers | None = None) -> WebSocketDisconnect:
    """How a socket the server refuses ends: accepted, then closed with a code and reason."""
    with (
        await client.websocket_connect(url, headers=headers or {}) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        await asyncio.to_thread(ws.receive_text, timeout=5)
    return closed.value


def execution_status(event: Frame) -> str | None:
    payload = event["payload"]
    if event["kind"] == "ConversationStateUpdateEvent" and payload.get("key") == "execution_status":
        return str(payload["value"])
    return None


async def events_until(ws: WebSocketTestSession, status: str) -> list[Frame]:
    """Event frames up to and including the status event ``status``."""
    seen: list[Frame] = []
    while True:
        found = await frame(ws)
        assert found["type"] == "event", found
        seen.append(found["event"])
        if execution_status(found["event"]) == status:
            return seen


def from_runtime(events: list[Frame]) -> list[Frame]:
    """The runtime's events among a conversation's, without the server's notes of its
    start."""
    return [event for event in events if event["source"] != "server"]


async def stored(client: Client, cid: str, headers: Headers | None = None) -> list[Frame]:
    items: list[Frame] = []
    after = 0
    while True:
        page = (
            await client.get(
                f"/api/conversations/{cid}/events",
                params={"after": after, "limit": 3},
                headers=headers or {},
            )
        ).json()
        items += page["items"]
        if page["nextAfter"] is None:
            return items
        after = page["nextAfter"]


async def test_a_conversation_runs_live_over_the_socket_to_finished(
    client: Client, world: ScriptedWorld
) -> None:
    world.script(ToolCall(tool="terminal", arguments={"command": "ls"}, output="README.md"))
    created = await start(
        client,
        repository="acme/widgets",
        branch="main",
        gitProvider="github",
        message="Fix the flaky test in the widget factory, please",
    )
    assert created["repository"] == "acme/widgets"
    assert created["gitProvider"] == "github"
    cid = created["id"]
    with await client.websocket_connect(f"/ws/conversations/{cid}?after=0") as ws:
        live = await events_until(ws, "finished")
        kinds = [e["kind"] for e in live]
        # the start's phases as it went through them, noted before the runtime's first events
        assert [(e["kind"], e["source"], e["type"], e["payload"]) for e in live[:2]] == [
            (
                "StartPhaseChanged",
                "server",
                "status",
                {"kind": "StartPhaseChanged", "phase": phase},
            )
            for phase in ("waiting_for_sandbox", "ready")
        ]
        assert kinds[2:4] == ["SystemPromptEvent", "MessageEvent"]
        assert "ActionEvent" in kinds
        assert "ObservationEvent" in kinds
        assert [e["seq"] for e in live] == list(range(1, len(live) + 1))
        heartbeat = await frame(ws, heartbeats=True)
        assert heartbeat["type"] == "heartbeat"
        assert heartbeat["at"].endswith(("Z", "+00:00"))

        ws.send_text(json.dumps({"type": "message", "text": "And the other one"}))
        assert (await frame(ws))["type"] == "accepted"
        more = await events_until(ws, "finished")
        assert more[0]["seq"] == live[-1]["seq"] + 1

        ws.send_text("not json")
        assert (await frame(ws))["code"] == "invalid-frame"
        ws.send_text(json.dumps({"type": "message", "text": " "}))
        assert (await frame(ws)) == {
            "type": "error",
            "code": "invalid-value",
            "detail": "A message needs text or an image.",
        }

    refused = await refusal(client, f"/ws/conversations/{cid}?after=-1")
    assert refused.code == 4422
    beyond = await refusal(client, f"/ws/conversations/{cid}?after={2**53}")
    assert beyond.code == 4422
    assert "after" in beyond.detail
    unknown = await refusal(client, "/ws/conversations/01a20000-0000-7000-8000-000000000000")
    assert unknown.code == 4404

    done = await status_is(client, cid, "finished")
    assert done["title"] == "Fix the flaky test in the widget factory, please"
    assert done["activeSeconds"] >= 0
    everything = await stored(client, cid)
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    assert [e["id"] for e in everything][: len(live) + len(more)] == [e["id"] for e in live + more]
    listed = (await client.get("/api/conversations", params={"status": "finished"})).json()
    assert [c["id"] for c in listed["items"]] == [cid]


async def test_a_late_socket_with_after_sees_the_same_sequence(
    client: Client, world: ScriptedWorld
) -> None:
    world.script(
        ToolCall(tool="terminal", arguments={"command": "true"}),
        ToolCall(tool="terminal", arguments={"command": "true"}),
    )
    cid = (await start(client))["id"]
    with await client.websocket_connect(f"/ws/conversations/{cid}") as first:
        await client.post(f"/api/conversations/{cid}/messages", json={"text": "Go"})
        early = await events_until(first, "finished")
        with await client.websocket_connect(f"/ws/conversations/{cid}?after=3") as late:
            await client.post(f"/api/conversations/{cid}/messages", json={"text": "Again"})
            rest_first = await events_until(first, "finished")
            rest_late: list[Frame] = []
            while not rest_late or rest_late[-1]["seq"] < rest_first[-1]["seq"]:
                rest_late += await events_until(late, "finished")
    whole_first = early + rest_first
    assert [e["seq"] for e in rest_late] == [e["seq"] for e in whole_first[3:]]
    assert [e["id"] for e in rest_late] == [e["id"] for e in whole_first[3:]]


async def test_stop_then_a_message_runs_again_and_pause_resume(
    client: Client, world: ScriptedWorld
) -> None:
    world.script(Slow(seconds=30, then=Finish()))
    cid = (await start(client, message="Take your time"))["id"]
    await status_is(client, cid, "running")
    assert (await client.post(f"/api/conversations/{cid}/stop")).status_code == 202
    await status_is(client, cid, "stopped")
    assert (
        await client.post(f"/api/conversations/{cid}/messages", json={"text": "Now"})
    ).status_code == 202
    await status_is(client, cid, "finished")

    world.script(Slow(seconds=30, then=Finish()))
    await client.post(f"/api/conversations/{cid}/messages", json={"text": "Slowly"})
    await status_is(client, cid, "running")
    assert (await client.post(f"/api/conversations/{cid}/pause")).status_code == 202
    await status_is(client, cid, "paused")
    assert (await client.post(f"/api/conversations/{cid}/stop")).status_code == 202
    await status_is(client, cid, "stopped")
    assert (await client.post(f"/api/conversations/{cid}/resume")).status_code == 202
    await status_is(client, cid, "finished")
    nothing = await client.post(f"/api/conversations/{cid}/confirmation", json={"accept": True})
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "invalid-status-transition"


async def test_rename_and_delete(client: Client, world: ScriptedWorld) -> None:
    cid = (await start(client, message="Hello"))["id"]
    renamed = await client.patch(f"/api/conversations/{cid}", json={"title": "  My   task "})
    assert renamed.json()["title"] == "My task"
    await status_is(client, cid, "finished")
    assert (await client.get(f"/api/conversations/{cid}")).json()["title"] == "My task"
    assert (await client.delete(f"/api/conversations/{cid}")).status_code == 204
    assert (await client.get(f"/api/conversations/{cid}")).status_code == 404
    assert UUID(cid) not in world.conversations
    assert (await client.get(f"/api/conversations/{cid}/events")).status_code == 404


async def test_bad_input_names_the_field(client: Client) -> None:
    cid = (await start(client))["id"]
    cases = [
        ("patch", f"/api/conversations/{cid}", {"title": "x" * 201}, "title"),
        (
            "post",
            "/api/conversations",
            {"repository": "no-slash", "gitProvider": "github"},
            "repository",
        ),
        ("post", "/api/conversations", {"repository": "a/b"}, "gitProvider"),
        ("post", "/api/conversations", {"gitProvider": "sourceforge"}, "gitProvider"),
        ("post", f"/api/conversations/{cid}/messages", {"text": " "}, "text"),
        ("post", f"/api/conversations/{cid}/messages", {"images": ["ftp://x"]}, "images"),
    ]
    for method, url, body, field in cases:
        answer = await getattr(client, method)(url, json=body)
        assert 400 <= answer.status_code < 500, (url, body, answer.text)
        assert answer.status_code != 404
        assert field in answer.text, (field, answer.text)
    for params, field in (
        ({"after": -1}, "after"),
        ({"after": 2**53}, "after"),
        ({"after": 10**30}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
    ):
        answer = await client.get(f"/api/conversations/{cid}/events", params=params)
        assert answer.status_code == 422, answer.text
        assert field in answer.text
    bad_cursor = await client.get("/api/conversations", params={"cursor": "nope"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"
    unknown = await client.get("/api/conversations", params={"status": "asleep"})
    assert unknown.status_code in (400, 422)
    assert "status" in unknown.text


async def test_without_an_llm_no_runtime_starts(tmp_path: Path, world: ScriptedWorld) -> None:
    async with serve(embedded(tmp_path), ScriptedRuntimeOverride(world)) as client:
        answer = await client.post("/api/conversations", json={"message": "Hello"})
        assert answer.status_code == 400
        problem = answer.json()
        assert problem["code"] == "llm-not-configured"
        assert "llmModel" in problem["detail"]
        assert "llmApiKey" in problem["detail"]
        await client.post("/api/settings", json={"llmModel": "openai/gpt-4o"})
        only_key = (await client.post("/api/conversations", json={})).json()
        assert "llmApiKey" in only_key["detail"]
        assert "llmModel" not in only_key["detail"]
        assert (await client.get("/api/conversations")).json()["items"] == []
    assert world.conversations == {}


@pytest.mark.parametrize("policy", ["reject", "pause_oldest"])
async def test_the_per_user_limit(tmp_path: Path, world: ScriptedWorld, policy: str) -> None:
    settings = embedded(
        tmp_path,
        MAESTRIST_CONVERSATION_LIMIT_PER_USER="2",
        MAESTRIST_CONVERSATION_LIMIT_POLICY=policy,
    )
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client)
        oldest = (await start(client))["id"]
        newer = (await start(client))["id"]
        assert (await client.get(f"/api/conversations/{oldest}")).json()["status"] == "idle"
        third = await client.post("/api/conversations", json={})
        if policy == "reject":
            assert third.status_code == 409
            assert third.json()["code"] == "conversation-limit-reached"
            assert third.json()["limit"] == 2
            assert world.conversations.keys() == {UUID(oldest), UUID(newer)}
            return
        assert third.status_code == 201, third.text
        assert (await client.get(f"/api/conversations/{oldest}")).json()["status"] == "paused"
        assert (await client.get(f"/api/conversations/{newer}")).json()["status"] == "idle"


async def test_the_per_org_limit_rejects_with_the_limit(
    tmp_path: Path, world: ScriptedWorld
) -> None:
    settings = embedded(tmp_path, MAESTRIST_CONVERSATION_LIMIT_PER_ORG="1")
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client)
        await start(client)
        refused = await client.post("/api/conversations", json={})
        assert refused.status_code == 409
        assert refused.json()["limit"] == 1
        assert "organization" in refused.json()["detail"]


@pytest.fixture(params=["embedded", pytest.param("clustered", marks=pytest.mark.postgres)])
def limited_to_two(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[Settings, list[Provider], Headers]:
    """Either binding with a per-member limit of 2 conversations."""
    limit = {"MAESTRIST_CONVERSATION_LIMIT_PER_USER": "2"}
    if request.param == "embedded":
        return embedded(tmp_path, **limit), [], {}
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(add_user(url, "alice"))
    env = {
        "MAESTRIST_BINDING": "clustered",
        "MAESTRIST_DATABASE_URL": url,
        "MAESTRIST_REDIS_URL": REDIS_URL,
        "MAESTRIST_ACCESS_LOG": "false",
        "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
        **NO_RATE_LIMITS,
        **limit,
    }
    return Settings.from_env(env), [BearerSubjectAuth()], bearer("alice")


async def test_parallel_starts_never_exceed_the_limit(
    limited_to_two: tuple[Settings, list[Provider], Headers], world: ScriptedWorld
) -> None:
    """Sixteen starts at once with room for two: the limit is checked and the conversation
    stored in one transaction, one admission at a time, so exactly two start."""
    settings, providers, headers = limited_to_two
    llm = {"llmModel": "openai/gpt-4o", "llmApiKey": "sk-test-not-real"}
    async with (
        asyncio.timeout(120),
        serve_concurrently(settings, *providers, ScriptedRuntimeOverride(world)) as client,
    ):
        configured = await client.post("/api/settings", json=llm, headers=headers)
        assert configured.status_code in (200, 201), configured.text
        answers = await asyncio.gather(
            *(client.post("/api/conversations", json={}, headers=headers) for _ in range(16))
        )
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [201] * 2 + [409] * 14, [a.text for a in answers]
        refused = [a.json() for a in answers if a.status_code == 409]
        assert {(p["code"], p["limit"]) for p in refused} == {("conversation-limit-reached", 2)}
        listed = (await client.get("/api/conversations", headers=headers)).json()["items"]
        started = {a.json()["id"] for a in answers if a.status_code == 201}
        assert {c["id"] for c in listed} == started
    assert {str(cid) for cid in world.conversations} == started


async def two_members_starting_at_once(
    postgres_url: str, world: ScriptedWorld
) -> tuple[list[httpx.Response], set[str]]:
    """Alice and Bob, members of one team with room for two conversations (and five each),
    send eight starts each in the team, all together; the answers and the conversations
    started on the runtime."""
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    settings = clustered_settings(postgres_url).with_changes(dependency_timeout_s=30.0)
    limits = settings.conversations.with_changes(limit_per_org=2, limit_per_user=5)
    settings = settings.with_changes(conversations=limits)
    providers = (BearerSubjectAuth(), ScriptedRuntimeOverride(world))
    async with asyncio.timeout(120), serve_concurrently(settings, *providers) as client:
        made = await client.post("/api/orgs", json={"name": "Team"}, headers=bearer("alice"))
        assert made.status_code == 201, made.text
        team = made.json()["id"]
        joined = await client.post(
            f"/api/orgs/{team}/members",
            json={"email": "bob@example.com", "role": "member"},
            headers=bearer("alice"),
        )
        assert joined.status_code == 201, joined.text
        members = [{**bearer(who), "X-Org-Id": team} for who in ("alice", "bob")]
        for headers in members:
            await configure_llm(client, headers)
        answers = await asyncio.gather(
            *(
                client.post("/api/conversations", json={}, headers=headers)
                for _ in range(8)
                for headers in members
            )
        )
    return answers, {str(cid) for cid in world.conversations}


@pytest.mark.postgres
@pytest.mark.redis
async def test_parallel_starts_of_two_members_never_exceed_the_org_limit(
    postgres_url: str, world: ScriptedWorld
) -> None:
    answers, on_runtime = await two_members_starting_at_once(postgres_url, world)
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 2 + [409] * 14, [a.text for a in answers]
    refused = [a.json() for a in answers if a.status_code == 409]
    assert {(p["code"], p["limit"]) for p in refused} == {("conversation-limit-reached", 2)}
    assert on_runtime == {a.json()["id"] for a in answers if a.status_code == 201}


@pytest.mark.postgres
@pytest.mark.redis
async def test_another_tenants_conversation_is_not_found_anywhere(
    postgres_url: str, world: ScriptedWorld
) -> None:
    await add_user(postgres_url, "alice")
    await add_user(postgres_url, "bob")
    alice, bob = bearer("alice"), bearer("bob")
    settings = clustered_settings(postgres_url)
    async with serve(settings, BearerSubjectAuth(), ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client, alice)
        await configure_llm(client, bob)
        cid = (await start(client, alice, message="Mine"))["id"]
        await status_is(client, cid, "finished", alice)
        base = f"/api/conversations/{cid}"
        routes = [
            ("get", base, None),
            ("patch", base, {"title": "Stolen"}),
            ("delete", base, None),
            ("post", f"{base}/messages", {"text": "Hi"}),
            ("post", f"{base}/pause", None),
            ("post", f"{base}/resume", None),
            ("post", f"{base}/stop", None),
            ("post", f"{base}/confirmation", {"accept": True}),
            ("get", f"{base}/events", None),
        ]
        for method, url, body in routes:
            kwargs: dict[str, Any] = {"headers": bob}
            if body is not None:
                kwargs["json"] = body
            answer = await getattr(client, method)(url, **kwargs)
            assert answer.status_code == 404, (method, url, answer.text)
            assert answer.json()["code"] == "conversation-not-found"
        assert (await client.get("/api/conversations", headers=bob)).json()["items"] == []
        child = await client.post(
            "/api/conversations", json={"parentId": cid, "message": "Hi"}, headers=bob
        )
        assert child.status_code == 404, child.text
        assert child.json()["code"] == "conversation-not-found"
        listed = await client.get("/api/conversations", params={"parentId": cid}, headers=bob)
        assert listed.json()["items"] == []

        refused = await refusal(client, f"/ws/conversations/{cid}", headers=bob)
        assert refused.code == 4404
        anonymous = await refusal(client, f"/ws/conversations/{cid}")
        assert anonymous.code == 4401

        mine = (await client.get(base, headers=alice)).json()
        assert mine["title"] == "Mine"
        with await client.websocket_connect(f"/ws/conversations/{cid}", headers=alice) as ws:
            assert (await frame(ws))["event"]["seq"] == 1


async def test_an_action_waits_for_confirmation_then_runs_or_is_rejected(
    client: Client, world: ScriptedWorld
) -> None:
    await client.post("/api/settings", json={"confirmationMode": True})
    world.script(
        ToolCall(tool="terminal", arguments={"command": "rm -rf build"}),
        ToolCall(tool="terminal", arguments={"command": "rm -rf /"}),
    )
    cid = (await start(client, message="Clean up"))["id"]
    await status_is(client, cid, "waiting_for_confirmation")
    accepted = await client.post(f"/api/conversations/{cid}/confirmation", json={"accept": True})
    assert accepted.status_code == 202
    async with asyncio.timeout(WAIT_S):
        while True:
            kinds = [e["kind"] for e in await stored(client, cid)]
            if kinds.count("ActionEvent") == 2 and kinds[-1] == "ConversationStateUpdateEvent":
                break
            await asyncio.sleep(0.025)
    await status_is(client, cid, "waiting_for_confirmation")
    rejected = await client.post(
        f"/api/conversations/{cid}/confirmation", json={"accept": False, "reason": "Too much"}
    )
    assert rejected.status_code == 202
    await status_is(client, cid, "idle")
    kinds = [e["kind"] for e in await stored(client, cid)]
    assert kinds.count("ActionEvent") == 2
    assert kinds.count("ObservationEvent") == 1
    assert "UserRejectObservation" in kinds
    bad = await client.post(f"/api/conversations/{cid}/confirmation", json={"accept": "yes"})
    assert bad.status_code == 422


async def test_a_restarted_server_loses_no_event_and_duplicates_none(
    tmp_path: Path, world: ScriptedWorld
) -> None:
    settings = embedded(tmp_path)
    world.script(ToolCall(tool="terminal", arguments={"command": "make"}))
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client)
        await client.post("/api/settings", json={"confirmationMode": True})
        cid = (await start(client, message="Build it"))["id"]
        await status_is(client, cid, "waiting_for_confirmation")
        before = await stored(client, cid)

    # While the server is down the runtime goes on: the action runs and the agent finishes.
    await ScriptedRuntime(world).respond_to_confirmation(ConversationId(UUID(cid)), accept=True)
    conversation = world.conversations[ConversationId(UUID(cid))]
    async with asyncio.timeout(WAIT_S):
        await world.settled()
    assert conversation.status.value == "finished"
    log = [event.event_id for event in conversation.log]
    assert len(log) > len(before)

    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await status_is(client, cid, "finished")
        after = await until_stored(client, cid, len(log) + 2)  # and the start's two phases
    assert [e["id"] for e in from_runtime(after)] == log
    assert [e["seq"] for e in after] == list(range(1, len(log) + 3))
    assert after[: len(before)] == before


async def until_stored(client: Client, cid: str, count: int) -> list[Frame]:
    found: list[Frame] = []
    try:
        async with asyncio.timeout(WAIT_S):
            while len(found := await stored(client, cid)) < count:
                await asyncio.sleep(0.025)
    except TimeoutError:
        raise AssertionError(f"only {len(found)} of {count} events stored") from None
    return found


@pytest.mark.parametrize("policy", ["reject", "pause_oldest"])
async def test_running_an_ended_conversation_again_counts_against_the_limit(
    tmp_path: Path, world: ScriptedWorld, policy: str
) -> None:
    settings = embedded(
        tmp_path,
        MAESTRIST_CONVERSATION_LIMIT_PER_USER="1",
        MAESTRIST_CONVERSATION_LIMIT_POLICY=policy,
    )
    async with serve(settings, ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client)
        ended = (await start(client, message="Quick one"))["id"]
        await status_is(client, ended, "finished")
        waiting = (await start(client))["id"]
        again = await client.post(f"/api/conversations/{ended}/messages", json={"text": "More"})
        if policy == "reject":
            assert again.status_code == 409
            assert again.json()["limit"] == 1
            assert (await client.get(f"/api/conversations/{ended}")).json()["status"] == "finished"
            return
        assert again.status_code == 202
        assert (await client.get(f"/api/conversations/{waiting}")).json()["status"] == "paused"
        await status_is(client, ended, "finished")


async def test_a_socket_from_another_sites_page_is_refused(client: Client) -> None:
    cid = (await start(client))["id"]
    refused = await refusal(
        client, f"/ws/conversations/{cid}", headers={"Origin": "https://evil.example"}
    )
    assert refused.code == 4403
    with await client.websocket_connect(
        f"/ws/conversations/{cid}", headers={"Origin": "https://app.example.com"}
    ) as ws:
        ws.send_text(json.dumps({"type": "message", "text": "Hi"}))
        assert (await frame(ws))["type"] in {"event", "accepted"}


@pytest.fixture(params=["embedded", pytest.param("clustered", marks=pytest.mark.postgres)])
def binding(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[Settings, list[Provider], Headers]:
    """SQLite (embedded) or PostgreSQL (clustered): the settings, providers and headers."""
    if request.param == "embedded":
        return embedded(tmp_path), [], {}
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(add_user(url, "alice"))
    return clustered_settings(url), [BearerSubjectAuth()], bearer("alice")


@pytest.fixture
async def any_binding(
    binding: tuple[Settings, list[Provider], Headers], world: ScriptedWorld
) -> AsyncIterator[tuple[Client, Headers]]:
    """A client of either binding on the scripted runtime, its LLM configured."""
    settings, providers, headers = binding
    async with serve(settings, *providers, ScriptedRuntimeOverride(world)) as found:
        await configure_llm(found, headers)
        yield found, headers


BINARY_OUTPUT = "\x7fELF\x02\x01\x01\x00\x00\x00 and UTF-16: \xff\xfeh\x00i\x00 \\u0000 "


async def test_a_tool_output_with_nul_is_stored_and_read_back_exactly(
    any_binding: tuple[Client, Headers], world: ScriptedWorld
) -> None:
    """A binary ``cat`` prints NULs: the event is kept whatever it holds, on SQLite and
    PostgreSQL alike, the events after it too, and the conversation finishes. Only a lone
    surrogate, which no UTF-8 answer can carry, becomes U+FFFD."""
    client, headers = any_binding
    world.script(
        ToolCall(tool="terminal", arguments={"command": "cat a.out"}, output=BINARY_OUTPUT),
        ToolCall(tool="terminal", arguments={"command": "half"}, output="half a pair: \ud800"),
        ToolCall(tool="terminal", arguments={"command": "echo next"}, output="next"),
    )
    cid = (await start(client, headers, message="Cat the binary"))["id"]
    with await client.websocket_connect(f"/ws/conversations/{cid}?after=0", headers=headers) as ws:
        live = await events_until(ws, "finished")
    done = await status_is(client, cid, "finished", headers)
    assert done["statusReason"] is None
    everything = await stored(client, cid, headers)
    assert [e["id"] for e in everything] == [e["id"] for e in live]
    outputs = [
        e["payload"]["observation"]["content"][0]["text"]
        for e in everything
        if e["kind"] == "ObservationEvent"
    ]
    assert outputs[:3] == [BINARY_OUTPUT, "half a pair: \ufffd", "next"]
    live_outputs = [
        e["payload"]["observation"]["content"][0]["text"]
        for e in live
        if e["kind"] == "ObservationEvent"
    ]
    assert live_outputs[:3] == [BINARY_OUTPUT, "half a pair: \ufffd", "next"]
    log = world.conversations[ConversationId(UUID(cid))].log
    assert [e["id"] for e in from_runtime(everything)] == [e.event_id for e in log]


async def test_a_failed_run_shows_error_with_the_runtimes_reason(
    any_binding: tuple[Client, Headers], world: ScriptedWorld
) -> None:
    client, headers = any_binding
    world.script(Fail())
    cid = (await start(client, headers, message="Hello"))["id"]
    reason = "LLMAuthenticationError: Your LLM API key appears to be invalid or has expired."
    failed = await until(client, cid, lambda c: c["statusReason"] == reason, headers)
    assert failed["status"] == "error"
    listed = (await client.get("/api/conversations", headers=headers)).json()["items"]
    assert [c["statusReason"] for c in listed] == [failed["statusReason"]]
    await client.post(f"/api/conversations/{cid}/messages", json={"text": "Again"}, headers=headers)
    again = await status_is(client, cid, "finished", headers)
    assert again["statusReason"] is None


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_message_after_the_key_was_revoked_is_refused_even_unannounced(
    postgres_url: str, world: ScriptedWorld
) -> None:
    """The key is revoked straight in the database, as if its announcement had been lost: the
    socket still checks the key before acting on the next frame, so the message never runs."""
    ada = await add_user(postgres_url, "ada")
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        personal = (await ports.orgs.list_for_member(ada.id_))[0].organization
        key, token = create_api_key(ada, personal.id_, scopes=ALL_SCOPES, expires_at=None)
        await ports.api_keys.add(key)
        await ports.uow.commit()
    auth = bearer(str(token))
    async with serve(clustered_settings(postgres_url), ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client, auth)
        cid = (await start(client, auth, message="Hello"))["id"]
        await status_is(client, cid, "finished", auth)
        with await client.websocket_connect(f"/ws/conversations/{cid}", headers=auth) as ws:
            assert (await frame(ws))["type"] == "event"
            async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
                await ports.api_keys.save(key.revoked(datetime.now(UTC)))
                await ports.uow.commit()
            runs, log = world.calls, len(world.conversations[ConversationId(UUID(cid))].log)
            ws.send_text(json.dumps({"type": "message", "text": "Run again"}))
            closed = await until_closed(ws)
        assert closed.code == 4401
        assert world.calls == runs
        assert len(world.conversations[ConversationId(UUID(cid))].log) == log


async def test_revoking_a_key_closes_its_open_socket_at_once(
    tmp_path: Path, world: ScriptedWorld
) -> None:
    """Embedded binding: the revocation is announced in-process; the socket does not wait for
    its next frame or heartbeat."""
    async with serve(embedded(tmp_path), ScriptedRuntimeOverride(world, 60)) as client:
        await configure_llm(client)
        cid = (await start(client, message="Hello"))["id"]
        made = await client.post(
            "/api/keys", json={"name": "watcher", "scopes": ["conversations:read"]}
        )
        assert made.status_code == 201, made.text
        key = made.json()
        watcher = bearer(key["token"])
        with await client.websocket_connect(f"/ws/conversations/{cid}", headers=watcher) as ws:
            assert (await frame(ws))["type"] == "event"
            revoked = await client.delete(f"/api/keys/{key['key']['id']}")
            assert revoked.status_code == 204, revoked.text
            closed = await until_closed(ws)
        assert closed.code == 4401
        assert closed.detail


async def key_with(client: Client, *scopes: str) -> Headers:
    made = await client.post("/api/keys", json={"name": "-".join(scopes), "scopes": list(scopes)})
    assert made.status_code == 201, made.text
    return bearer(made.json()["token"])


async def test_deleting_needs_the_write_scope(client: Client, world: ScriptedWorld) -> None:
    cid = (await start(client))["id"]
    reader = await key_with(client, "conversations:read")
    refused = await client.delete(f"/api/conversations/{cid}", headers=reader)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "missing-scope"
    assert (await client.get(f"/api/conversations/{cid}", headers=reader)).status_code == 200
    assert not world.conversations[ConversationId(UUID(cid))].deleted

    writer = await key_with(client, "conversations:read", "conversations:write")
    deleted = await client.delete(f"/api/conversations/{cid}", headers=writer)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"/api/conversations/{cid}")).status_code == 404


async def test_a_read_only_key_watches_over_the_socket_but_cannot_send(
    client: Client, world: ScriptedWorld
) -> None:
    cid = (await start(client, message="Hello"))["id"]
    await status_is(client, cid, "finished")
    log = world.conversations[ConversationId(UUID(cid))].log
    runs, logged = world.calls, len(log)
    reader = await key_with(client, "conversations:read")
    with await client.websocket_connect(f"/ws/conversations/{cid}", headers=reader) as ws:
        assert (await frame(ws))["type"] == "event"
        ws.send_text(json.dumps({"type": "message", "text": "Run again"}))
        answer = await frame(ws)
        while answer["type"] == "event":
            answer = await frame(ws)
        assert answer["type"] == "error", answer
        assert answer["code"] == "missing-scope"
    assert (world.calls, len(log)) == (runs, logged)

    writer = await key_with(client, "conversations:read", "conversations:write")
    with await client.websocket_connect(f"/ws/conversations/{cid}", headers=writer) as ws:
        ws.send_text(json.dumps({"type": "message", "text": "Run again"}))
        answer = await frame(ws)
        while answer["type"] == "event":
            answer = await frame(ws)
        assert answer["type"] == "accepted", answer
    assert len(log) > logged


async def test_a_conversation_whose_runtime_was_lost_says_so(tmp_path: Path) -> None:
    """The scripted runtime lives in the server's process: after a restart it holds none of the
    conversations it ran. One left working ends in error saying why (not ``running`` forever),
    and acting on one the runtime lost answers 409 saying so, never 404."""
    settings = embedded(tmp_path)
    before = ScriptedWorld(default=Finish(message="All done"))
    before.script(Finish(message="Done"), Slow(seconds=300, then=Finish()))
    async with serve(settings, ScriptedRuntimeOverride(before)) as client:
        await configure_llm(client)
        ended = (await start(client, message="Quick one"))["id"]
        await status_is(client, ended, "finished")
        working = (await start(client, message="A long one"))["id"]
        await status_is(client, working, "running")
    await before.aclose()
    async with serve(settings, ScriptedRuntimeOverride(ScriptedWorld())) as client:
        lost = await status_is(client, working, "error")
        assert "no longer holds this conversation" in lost["statusReason"]
        answer = await client.post(f"/api/conversations/{ended}/messages", json={"text": "More"})
        assert answer.status_code == 409, answer.text
        problem = answer.json()
        assert problem["code"] == "conversation-runtime-lost"
        assert "start a new conversation" in problem["detail"]
        assert (await client.get(f"/api/conversations/{ended}")).status_code == 200


async def test_a_conversation_that_spent_its_budget_is_paused_and_takes_no_more_work(
    client: Client, world: ScriptedWorld
) -> None:
    """Each scripted LLM answer costs $0.40 against a budget per task of $1.00: the run is
    paused once the cost reaches it, says why, and refuses messages and resuming with 409."""
    world.cost_per_step = 0.4
    budget = await client.post("/api/settings", json={"maxBudgetPerTask": 1.0})
    assert budget.status_code == 200, budget.text
    answer = ToolCall(tool="terminal", output="ok")  # the third crosses the budget
    world.script(answer, answer, answer, Slow(seconds=60, then=answer))
    cid = (await start(client, message="Spend"))["id"]
    paused = await status_is(client, cid, "paused")
    assert paused["maxBudgetUsd"] == 1.0
    assert paused["costUsd"] == pytest.approx(1.2)
    assert "$1.00" in paused["statusReason"]
    for path, body in (("messages", {"text": "Go on"}), ("resume", None)):
        refused = await client.post(f"/api/conversations/{cid}/{path}", json=body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "conversation-budget-spent"


async def test_a_child_conversation_runs_on_its_parents_workspace_and_is_listed_under_it(
    client: Client, world: ScriptedWorld
) -> None:
    parent = await start(
        client, message="Parent", repository="acme/widgets", gitProvider="github", branch="main"
    )
    await status_is(client, parent["id"], "finished")
    child = await start(client, parentId=parent["id"], message="Child")
    assert child["parentId"] == parent["id"]
    assert (child["repository"], child["branch"], child["gitProvider"]) == (
        "acme/widgets",
        "main",
        "github",
    )
    await status_is(client, child["id"], "finished")
    spec = world.conversations[ConversationId(UUID(child["id"]))].spec
    assert spec.parent_id == UUID(parent["id"])
    parent_spec = world.conversations[ConversationId(UUID(parent["id"]))].spec
    assert spec.workspace_dir == parent_spec.workspace_dir
    assert spec.checkout is None  # the parent's workspace holds the clone
    listed = await client.get("/api/conversations", params={"parentId": parent["id"]})
    assert [c["id"] for c in listed.json()["items"]] == [child["id"]]
    note = f"Started child conversation {child['id']}"
    await until_event(client, parent["id"], lambda e: note in json.dumps(e["payload"]))
    assert (await client.get(f"/api/conversations/{parent['id']}")).json()["status"] == "finished"
    assert (await client.get(f"/api/conversations/{parent['id']}")).json()["parentId"] is None

    for body, field in (
        (
            {"parentId": parent["id"], "repository": "acme/other", "gitProvider": "github"},
            "repository",
        ),
        ({"parentId": parent["id"], "branch": "dev"}, "branch"),
        ({"parentId": child["id"]}, "parentId"),
    ):
        refused = await client.post("/api/conversations", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    missing = await client.post("/api/conversations", json={"parentId": str(uuid4())})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "prefer", ["respond-async", "wait=5, RESPOND-ASYNC", 'handling=lenient, respond-async;x="y"']
)
async def test_a_start_answered_at_once_reports_its_phases_on_its_socket(
    any_binding: tuple[Client, Headers], world: ScriptedWorld, prefer: str
) -> None:
    """``Prefer: respond-async`` (RFC 7240) answers 202 once the conversation is recorded;
    its socket then shows the start's phases and the agent's events, each once, in order, on
    both bindings."""
    client, headers = any_binding
    world.script(ToolCall(tool="terminal", arguments={"command": "ls"}, output="README.md"))
    answer = await client.post(
        "/api/conversations", json={"message": "List it"}, headers={**headers, "Prefer": prefer}
    )
    assert answer.status_code == 202, answer.text
    created = answer.json()
    assert answer.headers["preference-applied"] == "respond-async"
    assert answer.headers["location"] == f"/api/conversations/{created['id']}"
    assert (created["status"], created["startPhase"]) == ("starting", "waiting_for_sandbox")
    cid = created["id"]
    with await client.websocket_connect(f"/ws/conversations/{cid}", headers=headers) as ws:
        live = await events_until(ws, "finished")
    assert [(e["kind"], e["payload"]["phase"]) for e in live[:2]] == [
        ("StartPhaseChanged", "waiting_for_sandbox"),
        ("StartPhaseChanged", "ready"),
    ]
    assert "ObservationEvent" in [e["kind"] for e in live]
    assert [e["seq"] for e in live] == list(range(1, len(live) + 1))
    done = await status_is(client, cid, "finished", headers)
    assert done["startPhase"] == "ready"
    assert [e["id"] for e in await stored(client, cid, headers)] == [e["id"] for e in live]


@pytest.mark.parametrize("prefer", ["", "respond-asynchronously", "return=minimal", "wait=1"])
async def test_a_start_without_respond_async_answers_once_the_runtime_holds_it(
    client: Client, prefer: str
) -> None:
    answer = await client.post(
        "/api/conversations", json={}, headers={"Prefer": prefer} if prefer else {}
    )
    assert answer.status_code == 201, answer.text
    assert "preference-applied" not in answer.headers
    assert (answer.json()["status"], answer.json()["startPhase"]) == ("idle", "ready")
