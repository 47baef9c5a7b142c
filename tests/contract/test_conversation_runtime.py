"""The ConversationRuntime contract: the scripted runtime and the real OpenHands agent-server
(run by LocalProcessHost against the stub LLM) produce the same event sequences, read into the
same neutral events (status, usage, hard stop, failure) with no credential in a payload."""

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from adapters.openhands import (
    AgentServerRuntime,
    ExternalHost,
    LocalProcessConfig,
    LocalProcessHost,
)
from adapters.openhands.agent_server_env import AGENT_SERVER_VERSION, is_ready
from adapters.openhands.client import ROUTES_USED
from adapters.scripted import (
    Fail,
    Finish,
    Reply,
    ScriptedRuntime,
    ScriptedWorld,
    Slow,
    Step,
    ToolCall,
)
from application.errors import RuntimeAuthRefusedError
from application.ports.conversation_runtime import ConversationRuntime
from domain.conversations import (
    ConfirmationMode,
    ConversationId,
    RuntimeConversationNotFoundError,
    RuntimeEvent,
    RuntimeStatus,
    StartSpec,
    TextPart,
)
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import GitAccess, RepositoryCheckout
from domain.shared.errors import InvalidValueError
from tests.fakes.git_hosts import run_fake_github
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm
from tests.support.token_endpoint import CREDENTIAL, run_token_endpoint

ROOT = Path(__file__).resolve().parents[2]
AGENT_SERVER_VENV = Path(
    os.environ.get("MAESTRIST_AGENT_SERVER_VENV") or ROOT / ".venv-agent-server"
)
WAIT_S = 60


@dataclass
class Harness:
    runtime: ConversationRuntime
    script: Callable[..., None]
    release: Callable[[], None]
    base_url: str | None
    workspace: Path
    restart: Callable[[], Awaitable[ConversationRuntime]]
    llm_calls: Callable[[], int]
    with_key: Callable[[str], ConversationRuntime]

    def spec(
        self,
        *,
        tools: tuple[str, ...] = (),
        confirmation: ConfirmationMode = ConfirmationMode.NEVER,
    ) -> StartSpec:
        return StartSpec(
            conversation_id=ConversationId(uuid4()),
            model=MODEL,
            api_key=API_KEY,
            base_url=self.base_url,
            workspace_dir=str(self.workspace),
            tools=tools,
            confirmation=confirmation,
            max_iterations=20,
            llm_retries=0,
            tags={"tenant": "contract"},
        )


@dataclass
class AgentServer:
    host: LocalProcessHost
    config: LocalProcessConfig
    stub: StubLLM


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentServer]:
    """One agent-server and one stub LLM for the module: starting the server takes seconds."""
    if not is_ready(AGENT_SERVER_VENV):
        pytest.fail(
            f"The agent-server virtualenv {AGENT_SERVER_VENV} is missing or incomplete; "
            "run `just agent-server-env`."
        )
    config = LocalProcessConfig(
        venv=AGENT_SERVER_VENV, data_dir=tmp_path_factory.mktemp("agent-server")
    )
    host = LocalProcessHost(config)
    with run_stub_llm() as stub, ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, host.ensure_running()).result()
        try:
            yield AgentServer(host, config, stub)
        finally:
            thread.submit(asyncio.run, host.stop()).result()


async def _scripted(tmp_path: Path) -> AsyncIterator[Harness]:
    world = ScriptedWorld(session_key="contract-key")
    runtime = ScriptedRuntime(world)

    async def restart() -> ConversationRuntime:
        return ScriptedRuntime(world)

    yield Harness(
        runtime=runtime,
        script=world.script,
        release=world.release,
        base_url=None,
        workspace=tmp_path,
        restart=restart,
        with_key=lambda key: ScriptedRuntime(world, session_key=key),
        llm_calls=lambda: world.calls,
    )
    world.reset()


async def _real(server: AgentServer, tmp_path: Path) -> AsyncIterator[Harness]:
    server.stub.reset()
    runtime = AgentServerRuntime(server.host)
    base_url = (await server.host.ensure_running()).base_url
    opened: list[ConversationRuntime] = [runtime]

    async def restart() -> ConversationRuntime:
        adopting = LocalProcessHost(server.config)
        before = (await server.host.ensure_running(), server.host.pid)
        assert (await adopting.ensure_running(), adopting.pid) == before  # adopted, not started
        await adopting.stop()
        assert adopting.pid is None
        restarted = AgentServerRuntime(adopting)
        opened.append(restarted)
        info = await adopting.ensure_running()
        assert info != before[0]
        assert await server.host.ensure_running() == info  # the old host object follows
        return restarted

    def with_key(key: str) -> ConversationRuntime:
        wrong = AgentServerRuntime(ExternalHost(base_url, key))
        opened.append(wrong)
        return wrong

    try:
        yield Harness(
            runtime=runtime,
            script=server.stub.script,
            release=server.stub.release,
            base_url=server.stub.base_url,
            workspace=tmp_path,
            restart=restart,
            with_key=with_key,
            llm_calls=lambda: len(server.stub.requests),
        )
    finally:
        server.stub.release()
        for each in opened:
            await each.aclose()


@pytest.fixture(params=["scripted", pytest.param("agent-server", marks=pytest.mark.agent_server)])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "scripted":
        opened = _scripted(tmp_path)
    else:
        opened = _real(request.getfixturevalue("agent_server"), tmp_path)
    async for each in opened:
        yield each


def payload_of(events: list[RuntimeEvent], wanted: str) -> Any:
    """The JSON of the last event with signature ``wanted``."""
    return next(e.payload for e in reversed(events) if signature(e) == wanted)


def signatures(events: list[RuntimeEvent]) -> list[str]:
    """The events' signatures, without the usage statistics: the agent-server publishes those
    from a callback of its own, so where they fall among the others varies."""
    return [signature(e) for e in events if signature(e) != "state:stats"]


def signature(event: RuntimeEvent) -> str:
    """Kind, plus the key (and status) of a state update, plus the tool of an action."""
    payload = event.payload
    if event.kind == "ConversationStateUpdateEvent":
        key = payload.get("key")
        return f"state:{key}={payload['value']}" if key == "execution_status" else f"state:{key}"
    if event.kind in {"ActionEvent", "ObservationEvent"}:
        return f"{event.kind}:{payload.get('tool_name')}"
    if event.kind == "MessageEvent":
        return f"MessageEvent:{event.source}"
    return event.kind


def check_neutral(event: RuntimeEvent) -> None:
    """What the application acts on is read out of each event alike on both runtimes: a
    status from status updates only, usage from usage reports only, the hard stop and the
    failure reason from their own events, and no payload holds the LLM key."""
    mark = signature(event)
    reported = None if event.status is None else f"state:execution_status={event.status}"
    assert reported == (mark if mark.startswith("state:execution_status=") else None)
    assert event.terminal == (event.status is not None and event.status.is_terminal)
    assert (event.usage is not None) == (mark == "state:stats")
    assert event.usage is None or event.usage.model == MODEL
    assert event.interrupted == (event.kind == "InterruptEvent")
    assert (event.failure is not None) == (event.kind == "ConversationErrorEvent")
    assert API_KEY not in json.dumps(dict(event.payload))


def stored(event: RuntimeEvent) -> StoredEvent:
    """The event as the event store keeps it."""
    return StoredEvent(
        conversation_id=event.conversation_id,
        seq=1,
        event_id=event.event_id,
        kind=event.kind,
        source=event.source,
        type=event.type,
        occurred_at=event.occurred_at,
        payload=event.payload,
    )


async def collect(
    runtime: ConversationRuntime,
    conversation_id: ConversationId,
    until: Callable[[RuntimeEvent], bool],
    *,
    after: str | None = None,
) -> list[RuntimeEvent]:
    seen: list[RuntimeEvent] = []
    async with (
        asyncio.timeout(WAIT_S),
        aclosing(runtime.events(conversation_id, after=after)) as stream,
    ):
        async for event in stream:
            check_neutral(event)
            seen.append(event)
            if until(event):
                return seen
    raise AssertionError("the event stream ended")


def has_status(status: RuntimeStatus) -> Callable[[RuntimeEvent], bool]:
    return lambda event: event.status is status


def text(value: str) -> list[TextPart]:
    return [TextPart(text=value)]


async def run_to_end(
    harness: Harness, spec: StartSpec, message: str, *steps: Step
) -> list[RuntimeEvent]:
    harness.script(*steps)
    assert await harness.runtime.start(spec) is RuntimeStatus.IDLE
    await harness.runtime.send_message(spec.conversation_id, text(message))
    return await collect(harness.runtime, spec.conversation_id, lambda event: event.terminal)


START = [
    "SystemPromptEvent",
    "MessageEvent:user",
    "state:last_user_message_id",
    "state:execution_status=running",
]


async def test_a_finish_call_ends_the_run_finished(harness: Harness) -> None:
    spec = harness.spec()
    events = await run_to_end(harness, spec, "hello", Finish(message="All done"))

    assert signatures(events) == [
        *START,
        "ActionEvent:finish",
        "ObservationEvent:finish",
        "state:execution_status=finished",
    ]
    assert events[-1].terminal
    assert events[-1].status is RuntimeStatus.FINISHED
    if all(e.usage is None for e in events):  # the usage report may come after the run ends
        events += await collect(
            harness.runtime,
            spec.conversation_id,
            lambda e: e.usage is not None,
            after=events[-1].event_id,
        )
    usage = next(e.usage for e in events if e.usage is not None)
    assert usage.model == MODEL
    texts = [harness.runtime.message_text(stored(e)) for e in events]
    assert [t for t in texts if t is not None] == ["hello"]
    assert payload_of(events, "ActionEvent:finish")["action"]["message"] == "All done"
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.occurred_at.utcoffset() is not None for e in events)
    assert await harness.runtime.get_status(spec.conversation_id) is RuntimeStatus.FINISHED


async def test_a_text_reply_ends_the_run_finished(harness: Harness) -> None:
    spec = harness.spec()
    events = await run_to_end(harness, spec, "hello", Reply(text="Hi there"))

    assert signatures(events) == [
        *START,
        "MessageEvent:agent",
        "state:execution_status=finished",
    ]
    content = payload_of(events, "MessageEvent:agent")["llm_message"]["content"]
    assert content[0]["text"] == "Hi there"


async def test_a_tool_call_then_finish(harness: Harness) -> None:
    spec = harness.spec(tools=("terminal",))
    call = ToolCall(tool="terminal", arguments={"command": "echo contract"}, output="contract")
    events = await run_to_end(harness, spec, "run it", call, Finish())

    assert signatures(events) == [
        *START,
        "ActionEvent:terminal",
        "ObservationEvent:terminal",
        "ActionEvent:finish",
        "ObservationEvent:finish",
        "state:execution_status=finished",
    ]
    assert payload_of(events, "ActionEvent:terminal")["action"]["command"] == "echo contract"
    assert payload_of(events, "ObservationEvent:terminal")["observation"]["kind"] == (
        "TerminalObservation"
    )


async def test_a_failed_llm_call_ends_the_run_in_error_saying_why(harness: Harness) -> None:
    """The status goes to ``error``, then a ``ConversationErrorEvent`` says why: the reason
    a conversation shows."""
    spec = harness.spec()
    harness.script(Fail())
    assert await harness.runtime.start(spec) is RuntimeStatus.IDLE
    await harness.runtime.send_message(spec.conversation_id, text("hello"))
    events = await collect(
        harness.runtime, spec.conversation_id, lambda e: e.kind == "ConversationErrorEvent"
    )

    assert signatures(events)[-2:] == ["state:execution_status=error", "ConversationErrorEvent"]
    assert next(e for e in events if e.status is RuntimeStatus.ERROR).terminal
    error = payload_of(events, "ConversationErrorEvent")
    assert (error["code"], error["detail"]) == (
        "LLMAuthenticationError",
        "Your LLM API key appears to be invalid or has expired.",
    )
    assert events[-1].failure == (
        "LLMAuthenticationError: Your LLM API key appears to be invalid or has expired."
    )
    assert await harness.runtime.get_status(spec.conversation_id) is RuntimeStatus.ERROR


async def test_start_is_idempotent_on_our_id(harness: Harness) -> None:
    spec = harness.spec()
    assert await harness.runtime.start(spec) is RuntimeStatus.IDLE
    assert await harness.runtime.start(spec) is RuntimeStatus.IDLE
    assert await harness.runtime.get_status(spec.conversation_id) is RuntimeStatus.IDLE


async def test_a_stop_interrupts_the_step_and_a_new_message_runs_again(harness: Harness) -> None:
    spec = harness.spec()
    harness.script(Slow(seconds=30, then=Finish(message="too late")), Finish(message="second"))
    await harness.runtime.start(spec)
    await harness.runtime.send_message(spec.conversation_id, text("take your time"))
    running = await collect(
        harness.runtime, spec.conversation_id, has_status(RuntimeStatus.RUNNING)
    )
    async with asyncio.timeout(WAIT_S):
        while harness.llm_calls() == 0:  # the slow answer is on its way
            await asyncio.sleep(0.05)

    await harness.runtime.stop(spec.conversation_id)
    stopped = await collect(
        harness.runtime,
        spec.conversation_id,
        lambda event: event.kind == "InterruptEvent",
        after=running[-1].event_id,
    )
    harness.release()

    assert signatures(stopped) == ["state:execution_status=paused", "InterruptEvent"]
    assert [e.interrupted for e in stopped if e.kind == "InterruptEvent"] == [True]
    assert await harness.runtime.get_status(spec.conversation_id) is RuntimeStatus.PAUSED
    await harness.runtime.send_message(spec.conversation_id, text("again"))
    resumed = await collect(
        harness.runtime, spec.conversation_id, lambda e: e.terminal, after=stopped[-1].event_id
    )
    assert signatures(resumed) == [
        "MessageEvent:user",
        "state:last_user_message_id",
        "state:execution_status=running",
        "ActionEvent:finish",
        "ObservationEvent:finish",
        "state:execution_status=finished",
    ]
    assert payload_of(resumed, "ActionEvent:finish")["action"]["message"] == "second"


async def test_a_pause_lets_the_step_in_progress_complete(harness: Harness) -> None:
    spec = harness.spec()
    harness.script(Slow(seconds=30, then=Finish(message="completed anyway")))
    await harness.runtime.start(spec)
    await harness.runtime.send_message(spec.conversation_id, text("take your time"))
    running = await collect(
        harness.runtime, spec.conversation_id, has_status(RuntimeStatus.RUNNING)
    )
    async with asyncio.timeout(WAIT_S):
        while harness.llm_calls() == 0:
            await asyncio.sleep(0.05)

    await harness.runtime.pause(spec.conversation_id)
    paused = await collect(
        harness.runtime,
        spec.conversation_id,
        lambda event: event.kind == "PauseEvent",
        after=running[-1].event_id,
    )
    # the agent-server logs ``paused`` at once but reports ``running`` until the step ends
    status = await harness.runtime.get_status(spec.conversation_id)
    assert status in {RuntimeStatus.PAUSED, RuntimeStatus.RUNNING}
    harness.release()

    assert signatures(paused) == ["state:execution_status=paused", "PauseEvent"]
    rest = await collect(
        harness.runtime, spec.conversation_id, lambda e: e.terminal, after=paused[-1].event_id
    )
    assert signatures(rest)[-3:] == [
        "ActionEvent:finish",
        "ObservationEvent:finish",
        "state:execution_status=finished",
    ]
    assert payload_of(rest, "ActionEvent:finish")["action"]["message"] == "completed anyway"


async def _wait_for_confirmation(harness: Harness, spec: StartSpec) -> list[RuntimeEvent]:
    harness.script(ToolCall(tool="terminal", arguments={"command": "echo ok"}, output="ok"))
    await harness.runtime.start(spec)
    await harness.runtime.send_message(spec.conversation_id, text("careful"))
    events = await collect(
        harness.runtime, spec.conversation_id, has_status(RuntimeStatus.WAITING_FOR_CONFIRMATION)
    )
    assert signatures(events)[-2:] == [
        "ActionEvent:terminal",
        "state:execution_status=waiting_for_confirmation",
    ]
    status = await harness.runtime.get_status(spec.conversation_id)
    assert status is RuntimeStatus.WAITING_FOR_CONFIRMATION
    return events


async def test_an_accepted_action_runs_and_the_run_goes_on(harness: Harness) -> None:
    spec = harness.spec(tools=("terminal",), confirmation=ConfirmationMode.ALWAYS)
    waiting = await _wait_for_confirmation(harness, spec)
    harness.script(Finish())

    await harness.runtime.respond_to_confirmation(spec.conversation_id, accept=True)

    rest = await collect(
        harness.runtime, spec.conversation_id, lambda e: e.terminal, after=waiting[-1].event_id
    )
    assert signatures(rest) == [
        "state:execution_status=running",
        "ObservationEvent:terminal",
        "ActionEvent:finish",
        "ObservationEvent:finish",
        "state:execution_status=finished",
    ]


async def test_a_rejected_action_leaves_the_conversation_idle(harness: Harness) -> None:
    spec = harness.spec(tools=("terminal",), confirmation=ConfirmationMode.ALWAYS)
    waiting = await _wait_for_confirmation(harness, spec)

    await harness.runtime.respond_to_confirmation(spec.conversation_id, accept=False, reason="no")

    rest = await collect(
        harness.runtime,
        spec.conversation_id,
        lambda e: e.kind == "UserRejectObservation",
        after=waiting[-1].event_id,
    )
    assert signatures(rest) == ["state:execution_status=idle", "UserRejectObservation"]
    assert await harness.runtime.get_status(spec.conversation_id) is RuntimeStatus.IDLE


async def test_an_unknown_conversation_is_not_found(harness: Harness) -> None:
    unknown = ConversationId(uuid4())
    for call in (
        harness.runtime.get_status(unknown),
        harness.runtime.send_message(unknown, text("hi")),
        harness.runtime.pause(unknown),
        harness.runtime.stop(unknown),
        harness.runtime.delete(unknown),
    ):
        with pytest.raises(RuntimeConversationNotFoundError):
            await call
    with pytest.raises(RuntimeConversationNotFoundError):
        await collect(harness.runtime, unknown, lambda _: True)


async def test_a_deleted_conversation_is_gone(harness: Harness) -> None:
    spec = harness.spec()
    await run_to_end(harness, spec, "hello")
    await harness.runtime.delete(spec.conversation_id)
    with pytest.raises(RuntimeConversationNotFoundError):
        await harness.runtime.get_status(spec.conversation_id)


async def test_events_after_a_cursor_replay_the_rest_once(harness: Harness) -> None:
    spec = harness.spec()
    events = await run_to_end(harness, spec, "hello")

    replayed = await collect(
        harness.runtime, spec.conversation_id, lambda e: e.terminal, after=events[2].event_id
    )

    assert [e.event_id for e in replayed] == [e.event_id for e in events[3:]]
    assert [e.payload for e in replayed] == [e.payload for e in events[3:]]


async def test_a_wrong_session_key_is_refused(harness: Harness) -> None:
    spec = harness.spec()
    await harness.runtime.start(spec)
    wrong = harness.with_key("not-the-key")
    with pytest.raises(RuntimeAuthRefusedError):
        await wrong.get_status(spec.conversation_id)
    with pytest.raises(RuntimeAuthRefusedError):
        await wrong.start(harness.spec())
    with pytest.raises(RuntimeAuthRefusedError):
        await collect(wrong, spec.conversation_id, lambda _: True)


async def test_a_conversation_survives_a_host_restart_and_resumes(harness: Harness) -> None:
    spec = harness.spec()
    first = await run_to_end(harness, spec, "before", Finish(message="one"))

    runtime = await harness.restart()

    assert await runtime.get_status(spec.conversation_id) is RuntimeStatus.FINISHED
    harness.script(Finish(message="two"))
    await runtime.send_message(spec.conversation_id, text("after"))
    rest = await collect(
        runtime, spec.conversation_id, lambda e: e.terminal, after=first[-1].event_id
    )
    assert rest[-1].status is RuntimeStatus.FINISHED
    assert "MessageEvent:user" in signatures(rest)
    assert payload_of(rest, "ActionEvent:finish")["action"]["message"] == "two"


async def test_a_live_stream_follows_the_conversation_across_a_host_restart(
    harness: Harness,
) -> None:
    spec = harness.spec()
    harness.script(Finish(message="one"))
    await harness.runtime.start(spec)
    seen: list[RuntimeEvent] = []

    async def follow() -> None:
        async with aclosing(harness.runtime.events(spec.conversation_id)) as stream:
            async for event in stream:
                seen.append(event)
                if sum(e.terminal for e in seen) == 2:
                    return

    follower = asyncio.create_task(follow())
    await harness.runtime.send_message(spec.conversation_id, text("one"))
    async with asyncio.timeout(WAIT_S):
        while not any(e.terminal for e in seen):
            await asyncio.sleep(0.05)

    runtime = await harness.restart()
    harness.script(Finish(message="two"))
    await runtime.send_message(spec.conversation_id, text("two"))

    await asyncio.wait_for(follower, WAIT_S)
    assert len({e.event_id for e in seen}) == len(seen)
    assert signatures(seen).count("MessageEvent:user") == 2
    assert payload_of(seen, "ActionEvent:finish")["action"]["message"] == "two"


@pytest.mark.agent_server
async def test_the_pinned_agent_server_still_serves_every_route_we_call(
    agent_server: AgentServer,
) -> None:
    info = await agent_server.host.ensure_running()
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(f"{info.base_url}/openapi.json")).json()
        version = (await client.get(f"{info.base_url}/server_info")).json()["version"]
    served = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert ROUTES_USED - served == set()
    assert version == AGENT_SERVER_VERSION


@pytest.mark.agent_server
async def test_the_agent_server_clones_the_repository_before_the_conversation_starts(
    agent_server: AgentServer, tmp_path: Path
) -> None:
    """The agent-server runs the checkout itself, fetching the token with the short-lived
    credential: the workspace holds the branch before the agent's first step, with no
    credential in it; a branch that does not exist fails the start and creates nothing."""
    runtime = AgentServerRuntime(agent_server.host)
    try:
        with run_fake_github() as github:
            github.add_user("alice")
            github.add_repo("alice/app", branches=["main", "feature"])
            with run_token_endpoint(github.issue_token("alice")) as endpoint:

                def spec(workspace: Path, branch: str) -> StartSpec:
                    return StartSpec(
                        conversation_id=ConversationId(uuid4()),
                        model=MODEL,
                        api_key=API_KEY,
                        base_url=agent_server.stub.base_url,
                        workspace_dir=str(workspace),
                        llm_retries=0,
                        git=GitAccess(
                            provider="github", token_url=endpoint.url, credential=CREDENTIAL
                        ),
                        checkout=RepositoryCheckout(
                            clone_url=f"{github.base_url}/alice/app.git",
                            username="x-access-token",
                            branch=branch,
                            author_email="alice@example.com",
                        ),
                    )

                good = spec(tmp_path / "good", "feature")
                assert await runtime.start(good) is RuntimeStatus.IDLE
                assert (tmp_path / "good" / "BRANCH").read_text() == "feature\n"
                config = (tmp_path / "good" / ".git" / "config").read_text()
                assert CREDENTIAL not in config
                assert endpoint.token not in config
                assert await runtime.get_status(good.conversation_id) is RuntimeStatus.IDLE

                bad = spec(tmp_path / "bad", "no-such-branch")
                with pytest.raises(InvalidValueError) as refused:
                    await runtime.start(bad)
                assert refused.value.field == "repository"
                assert endpoint.token not in refused.value.message
                with pytest.raises(RuntimeConversationNotFoundError):
                    await runtime.get_status(bad.conversation_id)
    finally:
        await runtime.aclose()


@pytest.mark.agent_server
async def test_a_renewed_git_credential_is_the_one_the_agent_fetches_tokens_with(
    agent_server: AgentServer, tmp_path: Path
) -> None:
    """The agent's ``GITHUB_TOKEN`` is looked up at our endpoint when a command uses it, with
    the credential last handed over, so a conversation outlives its first credential."""
    agent_server.stub.reset()
    runtime = AgentServerRuntime(agent_server.host)
    try:
        with run_token_endpoint("ghu_fresh-token") as endpoint:
            endpoint.accepted = {"renewed-credential"}
            spec = StartSpec(
                conversation_id=ConversationId(uuid4()),
                model=MODEL,
                api_key=API_KEY,
                base_url=agent_server.stub.base_url,
                workspace_dir=str(tmp_path),
                tools=("terminal",),
                llm_retries=0,
                git=GitAccess(provider="github", token_url=endpoint.url, credential="expired"),
            )
            assert await runtime.start(spec) is RuntimeStatus.IDLE
            renewed = GitAccess(
                provider="github", token_url=endpoint.url, credential="renewed-credential"
            )
            await runtime.renew_git_access(spec.conversation_id, renewed)
            agent_server.stub.script(
                ToolCall(
                    tool="terminal",
                    arguments={"command": 'test "$GITHUB_TOKEN" = ghu_fresh-token && echo same'},
                ),
                Finish(),
            )
            await runtime.send_message(spec.conversation_id, text("use the token"))
            events = await collect(
                runtime, spec.conversation_id, has_status(RuntimeStatus.FINISHED)
            )
            observed = payload_of(events, "ObservationEvent:terminal")["observation"]
            assert "same" in json.dumps(observed)
            assert "renewed-credential" in endpoint.presented
            assert "expired" not in endpoint.presented
        with pytest.raises(RuntimeConversationNotFoundError):
            await runtime.renew_git_access(ConversationId(uuid4()), renewed)
    finally:
        await runtime.aclose()


async def test_renewing_git_access_of_an_unknown_conversation_is_not_found(
    harness: Harness,
) -> None:
    git = GitAccess(provider="github", token_url="http://127.0.0.1:9/t", credential="c")
    with pytest.raises(RuntimeConversationNotFoundError):
        await harness.runtime.renew_git_access(ConversationId(uuid4()), git)
    spec = harness.spec()
    await harness.runtime.start(spec)
    await harness.runtime.renew_git_access(spec.conversation_id, git)
