"""Issue 5's promise, end to end: the embedded production server (``maestrist serve``) with
nothing set up but the LLM settings and a GitHub connection starts a conversation on a
repository, the real OpenHands agent-server clones it and works on it, and the websocket
shows every step live; pause, resume and delete work on the real runtime."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from adapters.openhands.confinement import signal_tree
from adapters.scripted import Fail, Finish, Slow, ToolCall
from tests.e2e.test_server import RunningServer, running_server, server_env
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.support.ports import closed_port
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm

pytestmark = [pytest.mark.server, pytest.mark.agent_server]

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("MAESTRIST_AGENT_SERVER_VENV") or ROOT / ".venv-agent-server")
WAIT_S = 90
SECRET = "s3cr3t-deploy-value-0042"
SETUP = 'echo "set up on $(cat BRANCH)" > .set-up\n'
BROKEN_SETUP = 'echo "the tool it needs is missing" >&2\nexit 3\n'
SLOW_SETUP = "sleep 300\n"


@contextlib.contextmanager
def agent_server_stopped_after(data_dir: Path) -> Iterator[None]:
    """The agent-servers (shared, and each sandbox's) outlive the server that started them
    (the next one adopts them): stop them when the test is over."""
    try:
        yield
    finally:
        for state in (data_dir / "agent-server").rglob("host.json"):
            with contextlib.suppress(ProcessLookupError, ValueError, KeyError):
                pid = int(json.loads(state.read_text())["pid"])
                signal_tree(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                signal_tree(pid, signal.SIGKILL)
        # One started while the server stopped may have missed its record: any process still
        # working in this data directory goes too.
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError):
                if (
                    entry.name.isdigit()
                    and str(data_dir).encode() in (entry / "cmdline").read_bytes()
                ):
                    signal_tree(int(entry.name), signal.SIGKILL)


def agent_server_command(settings: dict[str, str], action: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", "agent-server", action],
        env=server_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def local_settings(data: Path, **extra: str) -> dict[str, str]:
    """A server's settings for the local runtime with its data in ``data``."""
    if not (VENV / "bin" / "python").exists():
        pytest.fail(f"The agent-server virtualenv {VENV} is missing; run `just agent-server-env`.")
    return {
        "MAESTRIST_DATA_DIR": str(data),
        "MAESTRIST_RUNTIME": "local",
        "MAESTRIST_AGENT_SERVER_VENV": str(VENV),
        **extra,
    }


@contextlib.contextmanager
def local_server(
    tmp_path: Path, stub: StubLLM, **extra: str
) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    """`maestrist serve` with the local runtime (a sandbox per organization) and the stub LLM
    as the local user's, with its settings; every agent-server it started is stopped after."""
    data = tmp_path / "data"
    settings = local_settings(data, **extra)
    with (
        agent_server_stopped_after(data),
        running_server(tmp_path / "server.log", settings) as server,
    ):
        server.http.timeout = WAIT_S
        llm = {"llmModel": MODEL, "llmApiKey": API_KEY, "llmBaseUrl": stub.base_url}
        assert server.http.post("/api/settings", json=llm).status_code == 200
        yield server, settings


def frames_until(socket: Connection, status: str) -> list[dict[str, Any]]:
    """Event frames until the conversation reports ``status``."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        frame = json.loads(socket.recv(timeout=WAIT_S))
        if frame["type"] != "event":
            continue
        event = frame["event"]
        events.append(event)
        payload = event["payload"]
        if payload.get("key") == "execution_status" and payload.get("value") == status:
            return events
    raise AssertionError(f"no {status} within {WAIT_S} s: {[e['kind'] for e in events]}")


def wait_status(server: RunningServer, cid: str, *wanted: str) -> str:
    deadline = time.monotonic() + WAIT_S
    status = ""
    while time.monotonic() < deadline:
        status = str(server.http.get(f"/api/conversations/{cid}").json()["status"])
        if status in wanted:
            return status
        time.sleep(0.2)
    raise AssertionError(f"status {status}, not {wanted}")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("local")
        fake.add_repo(
            "local/app",
            branches=["main", "feature"],
            files={".openhands/setup.sh": SETUP},
        )
        fake.add_repo(
            "local/broken",
            branches=["main", "feature"],
            files={".openhands/setup.sh": BROKEN_SETUP},
        )
        fake.add_repo("local/slow", branches=["main"], files={".openhands/setup.sh": SLOW_SETUP})
        yield fake


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    with run_stub_llm() as llm:
        yield llm


def test_a_user_watches_the_real_agent_work_on_their_repository(
    tmp_path: Path, github: FakeGitHub, stub: StubLLM
) -> None:
    data = tmp_path / "data"
    with local_server(tmp_path, stub, MAESTRIST_GITHUB_URL=github.base_url) as (
        server,
        settings,
    ):
        http = server.http
        configured = http.post("/api/settings", json={"gitAuthorEmail": "local@example.com"})
        assert configured.status_code == 200, configured.text
        token = github.issue_token("local")
        connected = http.put("/api/user/git-providers/github", json={"token": token})
        assert connected.status_code == 200, connected.text
        secret = http.post("/api/secrets", json={"name": "DEPLOY_TOKEN", "value": SECRET})
        assert secret.status_code == 201, secret.text

        command = 'cat BRANCH && git config user.email && echo "secret: $DEPLOY_TOKEN"'
        stub.script(
            ToolCall(tool="terminal", arguments={"command": command}),
            Finish(message="The branch is feature."),
        )
        # Answered at once; the socket opened then shows the start's phases as they happen.
        created = http.post(
            "/api/conversations",
            json={
                "repository": "local/app",
                "branch": "feature",
                "gitProvider": "github",
                "message": "Which branch is checked out?",
            },
            headers={"Prefer": "respond-async"},
        )
        assert created.status_code == 202, created.text
        assert created.headers["Preference-Applied"] == "respond-async"
        assert (created.json()["status"], created.json()["startPhase"]) == (
            "starting",
            "waiting_for_sandbox",
        )
        cid = created.json()["id"]
        ws = server.base_url.replace("http://", "ws://") + f"/ws/conversations/{cid}?after=0"
        with connect(ws, open_timeout=10, proxy=None) as socket:
            live = frames_until(socket, "finished")
        phases = [e["payload"]["phase"] for e in live if e["kind"] == "StartPhaseChanged"]
        assert phases == [
            "waiting_for_sandbox",
            "starting_sandbox",
            "cloning",
            "setting_up",
            "ready",
        ]
        kinds = [event["kind"] for event in live]
        assert "ActionEvent" in kinds
        observed = json.dumps([e["payload"] for e in live if e["kind"] == "ObservationEvent"])
        assert "feature" in observed
        assert "local@example.com" in observed
        assert [event["seq"] for event in live] == list(range(1, len(live) + 1))
        # The clone is in the organization's sandbox, seen by its agent where workspaces go,
        # and the repository's setup script ran in it before the agent started.
        (clone,) = (data / "agent-server" / "sandboxes").glob(f"org-*/workspaces/{cid}")
        assert (clone / "BRANCH").read_text().strip() == "feature"
        assert (clone / ".set-up").read_text() == "set up on feature\n"
        assert http.get(f"/api/conversations/{cid}").json()["startPhase"] == "ready"
        assert not (data / "workspaces" / cid).exists()
        assert token not in json.dumps(live)
        assert API_KEY not in json.dumps(live)
        # The agent had the secret (its value was masked in what it printed), and neither it
        # nor any token reached our database in plaintext.
        assert "secret: " in observed
        database = b"".join(path.read_bytes() for path in data.glob("maestrist.db*"))
        for plaintext in (SECRET, token, API_KEY):
            assert plaintext.encode() not in database

        # A second client joining late replays the same sequence.
        with connect(ws, open_timeout=10, proxy=None) as late:
            replayed = frames_until(late, "finished")
        assert [e["id"] for e in replayed] == [e["id"] for e in live]
        assert wait_status(server, cid, "finished") == "finished"
        # The stub LLM reports 10 prompt and 5 completion tokens a call; the agent made two.
        # The runtime's usage report may come just after the run ends, so wait for it.
        deadline = time.monotonic() + WAIT_S
        found = http.get(f"/api/conversations/{cid}").json()
        while found["promptTokens"] < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
            found = http.get(f"/api/conversations/{cid}").json()
        assert found["title"] == "Which branch is checked out?"
        assert found["promptTokens"] >= 20
        assert found["completionTokens"] >= 10

        # Pause while the agent thinks, then resume to the end.
        stub.script(Slow(seconds=30, then=Finish(message="slow done")), Finish())
        sent = http.post(f"/api/conversations/{cid}/messages", json={"text": "Think slowly"})
        assert sent.status_code in (200, 202, 204), sent.text
        wait_status(server, cid, "running")
        paused = http.post(f"/api/conversations/{cid}/pause")
        assert paused.status_code in (200, 202, 204), paused.text
        stub.release()
        assert wait_status(server, cid, "paused", "finished") in ("paused", "finished")
        resumed = http.post(f"/api/conversations/{cid}/resume")
        assert resumed.status_code in (200, 202, 204), resumed.text
        assert wait_status(server, cid, "finished", "idle") in ("finished", "idle")

        deleted = http.delete(f"/api/conversations/{cid}")
        assert deleted.status_code == 204, deleted.text
        assert http.get(f"/api/conversations/{cid}").status_code == 404

        # A repository whose setup script fails: the start says why, and so does the
        # conversation, in the phase it failed in.
        broken = http.post(
            "/api/conversations",
            json={"repository": "local/broken", "branch": "feature", "gitProvider": "github"},
        )
        assert broken.status_code == 422, broken.text
        assert "setup script" in broken.json()["detail"]
        [failed] = [
            c
            for c in http.get("/api/conversations").json()["items"]
            if c["repository"] == "local/broken"
        ]
        assert (failed["status"], failed["startPhase"]) == ("error", "setting_up")
        assert failed["statusReason"].endswith("exit code 3: the tool it needs is missing")
        # Its socket tells the same: the phases it went through, then the failure and why.
        ws = server.base_url.replace("http://", "ws://") + f"/ws/conversations/{failed['id']}"
        with connect(ws, open_timeout=10, proxy=None) as socket:
            told = [json.loads(socket.recv(timeout=WAIT_S))["event"] for _ in range(4)]
        assert [(e["kind"], e["payload"]["phase"]) for e in told] == [
            ("StartPhaseChanged", "waiting_for_sandbox"),
            ("StartPhaseChanged", "cloning"),
            ("StartPhaseChanged", "setting_up"),
            ("StartFailed", "setting_up"),
        ]
        assert told[-1]["payload"]["reason"] == failed["statusReason"]
        assert server.stop() == 0
        # The organization's sandbox outlives the server (the next start adopts it) until
        # stopped, and the shared agent-server never started.
        status = agent_server_command(settings, "status").splitlines()
        assert status[0] == "up"
        assert status[1] == "  shared: down"
        assert [line.split(": ")[1] for line in status[2:]] == ["up"]
        assert status[2].startswith("  org-")
        assert agent_server_command(settings, "stop") == "stopped"
        assert agent_server_command(settings, "status").splitlines()[0] == "down"
    assert token not in (tmp_path / "server.log").read_text()


def test_an_idle_sandbox_stops_and_its_conversation_resumes_when_used(
    tmp_path: Path, stub: StubLLM
) -> None:
    """Once its conversation has finished and nothing is used for the idle time, the
    organization's sandbox stops (nothing keeps it, not the stream the server read events
    from); a message to the conversation starts it again and the conversation goes on, and
    so does the organization's next one."""
    # longer than the 5 s the ingest waits before it lets go of an ended conversation
    with local_server(tmp_path, stub, MAESTRIST_SANDBOX_IDLE="8") as (server, settings):
        http = server.http

        def stopped() -> None:
            deadline = time.monotonic() + WAIT_S
            while agent_server_command(settings, "status").splitlines()[0] != "down":
                assert time.monotonic() < deadline, "the idle sandbox was never stopped"
                time.sleep(0.5)

        def events(cid: str) -> list[dict[str, Any]]:
            listed = http.get(f"/api/conversations/{cid}/events", params={"limit": 1000})
            items: list[dict[str, Any]] = listed.json()["items"]
            return items

        stub.script(Finish(message="first"))
        created = http.post("/api/conversations", json={"message": "One"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        assert wait_status(server, cid, "finished") == "finished"
        stopped()
        before = len(events(cid))

        stub.script(Finish(message="second"))
        sent = http.post(f"/api/conversations/{cid}/messages", json={"text": "Two"})
        assert sent.status_code in (200, 202, 204), sent.text
        deadline = time.monotonic() + WAIT_S
        while "second" not in json.dumps(events(cid)[before:]):
            assert time.monotonic() < deadline, "the resumed conversation never answered"
            time.sleep(0.3)
        assert [e["seq"] for e in events(cid)] == list(range(1, len(events(cid)) + 1))
        stopped()

        stub.script(Finish(message="third"))
        again = http.post("/api/conversations", json={"message": "Three"})
        assert again.status_code == 201, again.text
        assert again.json()["startPhase"] == "ready"
        assert wait_status(server, again.json()["id"], "finished") == "finished"


def test_restarting_our_server_mid_run_loses_no_event_and_duplicates_none(
    tmp_path: Path, stub: StubLLM
) -> None:
    """Our server is killed while the agent works; the agent-server goes on, and the next
    server adopts it, follows the conversation from the last stored event and stores the
    rest: every event of the agent-server once, numbered without a gap."""
    data = tmp_path / "data"
    settings = local_settings(data)
    llm = {"llmModel": MODEL, "llmApiKey": API_KEY, "llmBaseUrl": stub.base_url}
    with agent_server_stopped_after(data):
        with running_server(tmp_path / "first.log", settings) as first:
            first.http.timeout = WAIT_S
            assert first.http.post("/api/settings", json=llm).status_code == 200
            stub.script(
                ToolCall(tool="terminal", arguments={"command": "echo before"}),
                Slow(
                    seconds=60, then=ToolCall(tool="terminal", arguments={"command": "echo after"})
                ),
                Finish(message="done"),
            )
            created = first.http.post("/api/conversations", json={"message": "Work, slowly"})
            assert created.status_code == 201, created.text
            cid = created.json()["id"]
            ws = first.base_url.replace("http://", "ws://") + f"/ws/conversations/{cid}?after=0"
            with connect(ws, open_timeout=10, proxy=None) as socket:
                seen: list[dict[str, Any]] = []
                while not any(
                    e["kind"] == "ObservationEvent" and "before" in json.dumps(e["payload"])
                    for e in seen
                ):
                    frame = json.loads(socket.recv(timeout=WAIT_S))
                    if frame["type"] == "event":
                        seen.append(frame["event"])
            first.close()  # SIGKILL, mid-run: the slow step is still waiting for the LLM

        stub.release()  # the agent goes on without us
        with running_server(tmp_path / "second.log", settings) as second:
            second.http.timeout = WAIT_S
            assert wait_status(second, cid, "finished") == "finished"
            stored = second.http.get(
                f"/api/conversations/{cid}/events", params={"limit": 1000}
            ).json()["items"]
    assert [event["seq"] for event in stored] == list(range(1, len(stored) + 1))
    ids = [event["id"] for event in stored]
    assert len(ids) == len(set(ids))
    assert [e["id"] for e in stored[: len(seen)]] == [e["id"] for e in seen]
    said = json.dumps([e["payload"] for e in stored if e["kind"] == "ObservationEvent"])
    assert "before" in said
    assert "after" in said


def test_a_start_whose_server_is_killed_ends_in_error_not_starting_for_ever(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """Our server is killed (SIGKILL) while a start runs the repository's setup script; the
    next server finds the conversation still starting past the start's bound and fails it,
    saying why, in its status and its events."""
    data = tmp_path / "data"
    settings = local_settings(data, MAESTRIST_GITHUB_URL=github.base_url)
    llm = {"llmModel": MODEL, "llmApiKey": API_KEY, "llmBaseUrl": "http://127.0.0.1:9/v1"}
    with agent_server_stopped_after(data):
        with running_server(tmp_path / "first.log", settings) as first:
            first.http.timeout = WAIT_S
            assert first.http.post("/api/settings", json=llm).status_code == 200
            token = github.issue_token("local")
            put = first.http.put("/api/user/git-providers/github", json={"token": token})
            assert put.status_code == 200, put.text
            created = first.http.post(
                "/api/conversations",
                json={"repository": "local/slow", "gitProvider": "github"},
                headers={"Prefer": "respond-async"},
            )
            assert created.status_code == 202, created.text
            cid = created.json()["id"]
            deadline = time.monotonic() + WAIT_S
            while first.http.get(f"/api/conversations/{cid}").json()["startPhase"] != (
                "setting_up"
            ):
                assert time.monotonic() < deadline, "the setup script never started"
                time.sleep(0.2)
            first.close()  # SIGKILL, mid-start: nothing is left to fail it

        short = {**settings, "MAESTRIST_CONVERSATION_START_TIMEOUT": "2"}
        with running_server(tmp_path / "second.log", short) as second:
            second.http.timeout = WAIT_S
            assert wait_status(second, cid, "error") == "error"
            found = second.http.get(f"/api/conversations/{cid}").json()
            stored = second.http.get(f"/api/conversations/{cid}/events").json()["items"]
    assert found["startPhase"] == "setting_up"
    assert found["statusReason"].startswith("The start was cut off")
    assert [(e["kind"], e["payload"]["phase"]) for e in stored][-2:] == [
        ("StartPhaseChanged", "setting_up"),
        ("StartFailed", "setting_up"),
    ]


def test_confirmation_and_stop_on_the_real_agent(tmp_path: Path, stub: StubLLM) -> None:
    """With confirmation mode on, the real agent waits before acting: rejecting leaves it
    idle without running the command, accepting runs it; a stop cancels a step in progress."""
    data = tmp_path / "data"
    with local_server(tmp_path, stub) as (server, _):
        http = server.http
        assert http.post("/api/settings", json={"confirmationMode": True}).status_code == 200
        # The agent's terminal starts in the conversation's workspace, which is in the
        # organization's sandbox.
        stub.script(ToolCall(tool="terminal", arguments={"command": "touch ran-rejected"}))
        created = http.post("/api/conversations", json={"message": "Touch a file"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        (workspace,) = (data / "agent-server" / "sandboxes").glob(f"org-*/workspaces/{cid}")
        assert wait_status(server, cid, "waiting_for_confirmation") == "waiting_for_confirmation"
        rejected = http.post(
            f"/api/conversations/{cid}/confirmation", json={"accept": False, "reason": "no"}
        )
        assert rejected.status_code in (200, 202, 204), rejected.text
        assert wait_status(server, cid, "idle", "finished") in ("idle", "finished")
        assert not (workspace / "ran-rejected").exists()

        stub.script(
            ToolCall(tool="terminal", arguments={"command": "touch ran-accepted"}),
            Finish(),
        )
        sent = http.post(f"/api/conversations/{cid}/messages", json={"text": "Now do it"})
        assert sent.status_code in (200, 202, 204), sent.text
        assert wait_status(server, cid, "waiting_for_confirmation") == "waiting_for_confirmation"
        accepted = http.post(f"/api/conversations/{cid}/confirmation", json={"accept": True})
        assert accepted.status_code in (200, 202, 204), accepted.text
        assert wait_status(server, cid, "finished") == "finished"
        assert (workspace / "ran-accepted").exists()

        stub.script(Slow(seconds=60, then=Finish(message="too late")))
        sent = http.post(f"/api/conversations/{cid}/messages", json={"text": "Take your time"})
        assert sent.status_code in (200, 202, 204), sent.text
        wait_status(server, cid, "running")
        stopped = http.post(f"/api/conversations/{cid}/stop")
        assert stopped.status_code in (200, 202, 204), stopped.text
        assert wait_status(server, cid, "stopped", "paused") in ("stopped", "paused")
        stub.release()


def test_an_llm_that_cannot_answer_fails_the_run_with_its_reason(
    tmp_path: Path, stub: StubLLM
) -> None:
    """An LLM that keeps failing (503) is tried three times, not five over two minutes, and the
    conversation shows ``error`` with the agent-server's reason; one nothing listens for (the
    README's placeholder with no network) fails the same way, saying it cannot connect."""
    with local_server(tmp_path, stub) as (server, _):
        http = server.http
        stub.script(*[Fail(code="unavailable", detail="overloaded", status=503)] * 10)
        created = http.post("/api/conversations", json={"message": "Hello"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        assert wait_status(server, cid, "error") == "error"
        failed = wait_reason(server, cid)
        assert failed["statusReason"], failed
        assert len([r for r in stub.requests if r.get("tools")]) == 3

        unreachable = {
            "llmModel": MODEL,
            "llmApiKey": API_KEY,
            "llmBaseUrl": f"http://127.0.0.1:{closed_port()}/v1",
        }
        assert http.post("/api/settings", json=unreachable).status_code == 200
        created = http.post("/api/conversations", json={"message": "Hello again"})
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        assert wait_status(server, cid, "error") == "error"
        reason = str(wait_reason(server, cid)["statusReason"])
        assert "connect" in reason.lower(), reason


def wait_reason(server: RunningServer, cid: str) -> dict[str, Any]:
    """The conversation once the runtime's own reason replaced the generic one."""
    deadline = time.monotonic() + WAIT_S
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        found = server.http.get(f"/api/conversations/{cid}").json()
        if found["statusReason"] not in (None, "The runtime reported an error."):
            return found
        time.sleep(0.2)
    raise AssertionError(f"no reason from the runtime: {found}")
