"""The failure harness: several production servers (``maestrist serve``) on one PostgreSQL and
Redis, driving the real OpenHands agent-server (an external runtime every server reaches) with
a stub LLM, through the public API and real sockets. The owner of a running conversation is
killed with SIGKILL, restarted where it ran, or cut off from Redis; each time every event the
agent-server holds must end up stored once, in order, and sockets already open on the other
servers must go on streaming without reconnecting.

Nothing here waits for a lease's time to live to be asked about: without the sweep, a
conversation whose owner died is never taken over while nobody opens a socket on it. Times
are recorded, not asserted (``scripts/failover.py`` measures them: docs/reliability.md)."""

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.connection import Connection

from adapters.scripted import Finish, Slow, ToolCall
from domain.conversations.value_objects import HostInfo
from tests.conftest import REDIS_URL
from tests.contract.test_conversation_runtime import AGENT_SERVER_VENV
from tests.e2e.test_agent_server_conversation import agent_server_stopped_after
from tests.e2e.test_clustered_conversation import _api_token, _watch
from tests.e2e.test_server import RunningServer, TcpProxy, clustered, running_server, via_proxy
from tests.support.agent_server import agent_server_client, conversation_at
from tests.support.stub_llm import API_KEY, MODEL, StubLLM, run_stub_llm

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis, pytest.mark.agent_server]

WAIT_S = 90.0
"""How long a conversation may take to reach where a test waits for it; far beyond what a
takeover takes (about the lease's 3 s), and far below forever, which is what it took before."""


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    with run_stub_llm() as llm:
        yield llm


class Cluster:
    """Servers on one database and one Redis, each started and killed at will."""

    def __init__(
        self, tmp_path: Path, settings: dict[str, str], stack: contextlib.ExitStack
    ) -> None:
        self._tmp_path = tmp_path
        self.settings = settings
        self._stack = stack
        self._started = 0

    def start(
        self, *, port: int | None = None, settings: dict[str, str] | None = None
    ) -> RunningServer:
        self._started += 1
        server = self._stack.enter_context(
            running_server(
                self._tmp_path / f"server-{self._started}.log",
                {**self.settings, **(settings or {})},
                port=port,
            )
        )
        server.http.timeout = 30
        return server


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_url: str, agent_server: HostInfo
) -> Iterator[tuple[Cluster, dict[str, str]]]:
    token = asyncio.run(_api_token(postgres_url))
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_DEPENDENCY_TIMEOUT": "2",
        "MAESTRIST_RUNTIME": "external",
        "MAESTRIST_AGENT_SERVER_URL": agent_server.base_url,
        "MAESTRIST_AGENT_SERVER_KEY": agent_server.session_key,
    }
    with contextlib.ExitStack() as stack:
        yield Cluster(tmp_path, settings, stack), {"Authorization": f"Bearer {token}"}


def _slow_run(stub: StubLLM) -> None:
    """A run that stops, mid-way, on an LLM answer the test releases."""
    stub.script(
        ToolCall(tool="terminal", arguments={"command": "echo before"}),
        Slow(seconds=WAIT_S, then=ToolCall(tool="terminal", arguments={"command": "echo after"})),
        Finish(message="done"),
    )


def _start(server: RunningServer, auth: dict[str, str], stub: StubLLM) -> str:
    llm = {"llmModel": MODEL, "llmApiKey": API_KEY, "llmBaseUrl": stub.base_url}
    configured = server.http.post("/api/settings", json=llm, headers=auth)
    assert configured.status_code == 200, configured.text
    created = server.http.post("/api/conversations", json={"message": "Work, slowly"}, headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _mid_run(
    stub: StubLLM, auth: dict[str, str], owner: RunningServer, reader: RunningServer
) -> str:
    """A conversation started on ``owner``, once ``reader`` shows its first step stored: the
    agent waits for the LLM's next answer until ``stub.release()``."""
    _slow_run(stub)
    cid = _start(owner, auth, stub)
    _wait_stored(reader, cid, auth, "before")
    return cid


def _said(event: dict[str, Any], text: str) -> bool:
    return event["kind"] == "ObservationEvent" and text in json.dumps(event["payload"])


def _stored(server: RunningServer, cid: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    answer = server.http.get(
        f"/api/conversations/{cid}/events", params={"limit": 1000}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _wait_stored(
    server: RunningServer, cid: str, auth: dict[str, str], text: str
) -> list[dict[str, Any]]:
    """The stored events once one of them is the observation saying ``text``."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        stored = _stored(server, cid, auth)
        if any(_said(event, text) for event in stored):
            return stored
        time.sleep(0.1)
    raise AssertionError(f"no observation of {text!r} stored within {WAIT_S} s")


def _wait_finished(server: RunningServer, cid: str, auth: dict[str, str]) -> None:
    deadline = time.monotonic() + WAIT_S
    status = ""
    while time.monotonic() < deadline:
        status = server.http.get(f"/api/conversations/{cid}", headers=auth).json()["status"]
        if status == "finished":
            return
        time.sleep(0.1)
    raise AssertionError(f"still {status} after {WAIT_S} s")


def _runtime_ids(agent_server: HostInfo, cid: str) -> list[str]:
    """The ids of every event the agent-server holds for the conversation, oldest first."""
    ids: list[str] = []
    page: str | None = None
    with agent_server_client(agent_server) as client:
        while True:
            params = {
                "limit": "100",
                "sort_order": "TIMESTAMP",
                **({"page_id": page} if page else {}),
            }
            answer = client.get(f"/api/conversations/{cid}/events/search", params=params)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            ids += [item["id"] for item in body["items"]]
            page = body.get("next_page_id")
            if not page:
                return ids


def _assert_complete(
    server: RunningServer, cid: str, auth: dict[str, str], agent_server: HostInfo
) -> list[dict[str, Any]]:
    """Once the run finished, every event of the agent-server stored once, in its order,
    numbered without a gap (the agent-server may add an event just after the run finished: it
    is waited for); answers the stored events."""
    _wait_finished(server, cid, auth)
    deadline = time.monotonic() + WAIT_S
    while True:
        stored, runtime_ids = _stored(server, cid, auth), _runtime_ids(agent_server, cid)
        if len(_from_runtime(stored)) >= len(runtime_ids) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [event["seq"] for event in stored] == list(range(1, len(stored) + 1))
    assert _ids(_from_runtime(stored)) == runtime_ids
    return stored


def _from_runtime(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runtime's events, without the notes of the start the server adds to the log."""
    return [event for event in events if event["source"] != "server"]


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [str(event["id"]) for event in events]


def _read_until_finished(socket: Connection) -> list[dict[str, Any]]:
    """Event frames until the run finishes; a socket that closes fails the test (it had to
    reconnect)."""
    events: list[dict[str, Any]] = []
    while True:
        frame = json.loads(socket.recv(timeout=WAIT_S))
        if frame["type"] != "event":
            continue
        events.append(frame["event"])
        payload = frame["event"]["payload"]
        if payload.get("key") == "execution_status" and payload.get("value") == "finished":
            return events


def _read_until(socket: Connection, text: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not any(_said(event, text) for event in events):
        frame = json.loads(socket.recv(timeout=WAIT_S))
        if frame["type"] == "event":
            events.append(frame["event"])
    return events


def _wait_lease_gone(cid: str, redis_url: str = REDIS_URL) -> None:
    """Returns once the conversation's lease ran out in Redis (seen past the proxy)."""
    with redis.Redis.from_url(redis_url) as client:
        deadline = time.monotonic() + WAIT_S
        while client.exists(f"maestrist:conversation:{{{cid}}}:lease"):
            assert time.monotonic() < deadline, "the lease never ran out"
            time.sleep(0.1)


def test_a_killed_owner_is_taken_over_while_sockets_on_other_servers_stream_on(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    servers, auth = cluster
    owner, second, third = servers.start(), servers.start(), servers.start()
    token = auth["Authorization"].removeprefix("Bearer ")
    _slow_run(stub)
    cid = _start(owner, auth, stub)
    with _watch(second, cid, token) as here, _watch(third, cid, token) as there:
        seen_here = _read_until(here, "before")
        seen_there = _read_until(there, "before")
        owner.close()  # SIGKILL, mid-run
        stub.release()  # the agent goes on without its owner
        seen_here += _read_until_finished(here)
        seen_there += _read_until_finished(there)
    stored = _assert_complete(second, cid, auth, agent_server)
    # each socket saw every event once, in order, up to the end of the run
    assert _ids(seen_here) == _ids(stored)[: len(seen_here)]
    assert _ids(seen_there) == _ids(stored)[: len(seen_there)]
    assert any(_said(event, "after") for event in seen_here)


def test_a_killed_owner_is_taken_over_with_nobody_watching(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    servers, auth = cluster
    owner, other = servers.start(), servers.start()
    cid = _mid_run(stub, auth, owner, other)
    owner.close()
    stub.release()
    _assert_complete(other, cid, auth, agent_server)


def test_an_owner_restarted_where_it_ran_takes_its_conversation_back(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """Alone in the cluster, so only its own return can take the conversation over."""
    servers, auth = cluster
    owner = servers.start()
    cid = _mid_run(stub, auth, owner, owner)
    owner.close()
    stub.release()
    restarted = servers.start(port=owner.port)
    _assert_complete(restarted, cid, auth, agent_server)


def test_nothing_is_lost_when_redis_is_away_with_nobody_watching(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """Redis goes away (every connection to it dropped and refused) for longer than a lease
    lives, while the agent works and nobody watches; once it is back, every event is stored.
    A conversation started meanwhile either answers 201 and is then followed in full, or is
    refused with a problem saying why."""
    servers, auth = cluster
    redis_host = urlsplit(REDIS_URL)
    proxy = TcpProxy(redis_host.hostname or "127.0.0.1", redis_host.port or 6379)
    proxy.start()
    try:
        via = {"MAESTRIST_REDIS_URL": via_proxy(REDIS_URL, proxy)}
        owner, other = servers.start(settings=via), servers.start(settings=via)
        cid = _mid_run(stub, auth, owner, owner)
        proxy.stop()
        stub.release()
        _wait_lease_gone(cid)  # away longer than the lease lives
        during = other.http.post(
            "/api/conversations", json={"message": "Start during the outage"}, headers=auth
        )
        proxy.start()
        _assert_complete(other, cid, auth, agent_server)
        if during.status_code == 201:
            started = str(during.json()["id"])
            _assert_complete(other, started, auth, agent_server)
        else:
            assert during.status_code == 503, during.text
            assert during.headers["content-type"].startswith("application/problem+json")
    finally:
        proxy.close()


@contextlib.contextmanager
def _proxied(url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the server ``url`` names, and ``url`` through it."""
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 0)
    proxy.start()
    try:
        yield proxy, via_proxy(url, proxy)
    finally:
        proxy.close()


def test_nothing_is_lost_when_postgresql_is_away_with_nobody_watching(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """PostgreSQL goes away for every server while the agent works; the owner keeps its lease
    and stores what the agent-server holds once the database is back."""
    servers, auth = cluster
    database = servers.settings["MAESTRIST_DATABASE_URL"]
    with _proxied(database) as (proxy, via):
        owner = servers.start(settings={"MAESTRIST_DATABASE_URL": via})
        other = servers.start(settings={"MAESTRIST_DATABASE_URL": via})
        cid = _mid_run(stub, auth, owner, other)
        proxy.stop()
        stub.release()
        _wait_runtime_finished(agent_server, cid)  # the agent ends its run meanwhile
        proxy.start()
        _assert_complete(other, cid, auth, agent_server)


def test_an_owner_cut_off_from_redis_is_replaced_and_writes_nothing_after(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """A partition: the owner keeps running and keeps reading the agent-server, but cannot
    reach Redis, so it cannot renew its lease; another server takes the conversation over with
    a greater fence. When the partition heals, the old owner finds its lease lost and stops:
    every event is stored once, in order, whoever read it."""
    servers, auth = cluster
    with _proxied(REDIS_URL) as (proxy, via):
        owner = servers.start(settings={"MAESTRIST_REDIS_URL": via})
        other = servers.start()
        cid = _mid_run(stub, auth, owner, other)
        proxy.stop()  # the owner alone is cut off
        stub.release()
        _wait_finished(other, cid, auth)  # taken over while the owner still runs
        assert owner.process.poll() is None
        proxy.start()  # the partition heals
        # It stopped either way: on finding its lease lost, or after 2 s of storing nothing.
        _wait_logged(owner, "lease was lost", "handed over")
        _assert_complete(other, cid, auth, agent_server)


def test_an_owner_cut_off_from_postgresql_hands_its_conversation_over(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """A partition from the database alone: the owner still renews its lease but can store
    nothing, so after a few seconds it gives the conversation up, and a server that reaches
    the database finishes storing it while the owner is still cut off."""
    servers, auth = cluster
    with _proxied(servers.settings["MAESTRIST_DATABASE_URL"]) as (proxy, via):
        owner = servers.start(settings={"MAESTRIST_DATABASE_URL": via})
        other = servers.start()
        cid = _mid_run(stub, auth, owner, other)
        proxy.stop()  # the owner alone loses the database
        stub.release()
        _assert_complete(other, cid, auth, agent_server)
        assert owner.process.poll() is None
        _wait_logged(owner, "handed over")


def test_a_conversation_redis_forgot_is_found_again_in_the_database(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """Redis loses what it knew of a running conversation (a restart without persistence, a
    failover to an empty replica): its lease, its fence counter, its deadline. The owner finds
    its lease gone and stops; the servers' periodic reading of the unfinished conversations
    finds it again, and one of them stores the rest."""
    servers, auth = cluster
    owner, other = servers.start(), servers.start()
    cid = _mid_run(stub, auth, owner, other)
    with redis.Redis.from_url(REDIS_URL) as client:
        prefix = f"maestrist:conversation:{{{cid}}}"
        client.delete(f"{prefix}:lease", f"{prefix}:fence")
        client.zrem("maestrist:conversation:leases-due", cid)
    stub.release()
    _wait_logged(owner, "lease was lost")
    _assert_complete(other, cid, auth, agent_server)


def _wait_runtime_finished(agent_server: HostInfo, cid: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if conversation_at(agent_server, cid).get("execution_status") == "finished":
            return
        time.sleep(0.2)
    raise AssertionError(f"the agent-server did not finish {cid} within {WAIT_S} s")


def _wait_logged(server: RunningServer, *texts: str) -> None:
    """Returns once the server logged one of ``texts``."""
    deadline = time.monotonic() + WAIT_S
    while not any(text in server.log() for text in texts):
        assert time.monotonic() < deadline, f"none of {texts} logged:\n{server.log()}"
        time.sleep(0.2)


class _Watcher(threading.Thread):
    """A client watching a conversation, as the web app does: when its server closes the
    socket with 1001 (going away), it reconnects to the next server that is up, asking for the
    events after the last one it saw."""

    def __init__(self, up: "_Balancer", cid: str, token: str) -> None:
        super().__init__(daemon=True)
        self._up, self._cid, self._token = up, cid, token
        self.events: list[dict[str, Any]] = []
        self.reconnects = 0
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while True:
                server = self._up.pick()
                after = self.events[-1]["seq"] if self.events else 0
                try:
                    with _watch(server, self._cid, self._token, after=after) as socket:
                        while True:
                            frame = json.loads(socket.recv(timeout=WAIT_S))
                            if frame["type"] != "event":
                                continue
                            self.events.append(frame["event"])
                            payload = frame["event"]["payload"]
                            if (
                                payload.get("key") == "execution_status"
                                and payload.get("value") == "finished"
                            ):
                                return
                except ConnectionClosed as closed:
                    if closed.rcvd is None or closed.rcvd.code != 1001:
                        raise
                    self.reconnects += 1
        except BaseException as exc:  # reported by the test
            self.failure = exc


class _Balancer(threading.Thread):
    """A load balancer's view: the servers in rotation, and requests sent to them all the
    while (every answer must be 2xx). Taking a server out drains it, as a balancer does: it
    gets no new request, and the ones already sent to it are waited for."""

    def __init__(self, servers: list[RunningServer], path: str, auth: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self._servers = list(servers)
        self._lock = threading.Condition()
        self._path, self._auth = path, auth
        self._halt = threading.Event()
        self._turn = 0
        self._in_flight: dict[int, int] = {}
        self.answered = 0
        self.failed: list[str] = []

    def pick(self) -> RunningServer:
        with self._lock:
            self._turn += 1
            return self._servers[self._turn % len(self._servers)]

    def take_out(self, server: RunningServer) -> None:
        with self._lock:
            self._servers.remove(server)
            drained = self._lock.wait_for(lambda: not self._in_flight.get(server.port), 60)
        assert drained, f"requests to {server.base_url} never finished"

    def put_in(self, server: RunningServer) -> None:
        with self._lock:
            self._servers.append(server)

    def _send(self) -> tuple[RunningServer, httpx.Response]:
        """Pick a server in rotation and send it the request, counted in flight meanwhile."""
        with self._lock:
            self._turn += 1
            server = self._servers[self._turn % len(self._servers)]
            self._in_flight[server.port] = self._in_flight.get(server.port, 0) + 1
        try:
            return server, self._get(server)
        except httpx.HTTPError as exc:
            raise _SendError(server, exc) from exc
        finally:
            with self._lock:
                self._in_flight[server.port] -= 1
                self._lock.notify_all()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                server, answer = self._send()
            except _SendError as exc:
                self.failed.append(f"{exc.server.base_url}: {exc.cause!r}")
            else:
                self.answered += 1
                if answer.status_code != 200:
                    self.failed.append(f"{server.base_url}: {answer.status_code} {answer.text}")

    def _get(self, server: RunningServer) -> httpx.Response:
        return httpx.get(
            server.base_url + self._path, headers=self._auth, timeout=30, trust_env=False
        )

    def close(self) -> None:
        self._halt.set()
        self.join(timeout=60)


class _SendError(Exception):
    def __init__(self, server: RunningServer, cause: httpx.HTTPError) -> None:
        super().__init__(str(cause))
        self.server, self.cause = server, cause


def test_a_rolling_restart_fails_no_request_and_loses_no_event(
    cluster: tuple[Cluster, dict[str, str]], stub: StubLLM, agent_server: HostInfo
) -> None:
    """Every server restarted in turn (out of rotation, SIGTERM, a new one started, back in)
    while the agent works and requests keep coming: every request answers 2xx, every socket is
    told to reconnect (1001) and resumes after the last event it saw, missing none."""
    servers, auth = cluster
    token = auth["Authorization"].removeprefix("Bearer ")
    first, second = servers.start(), servers.start()
    _slow_run(stub)
    cid = _start(first, auth, stub)
    balancer = _Balancer([first, second], f"/api/conversations/{cid}", auth)
    watchers = [_Watcher(balancer, cid, token) for _ in range(4)]
    balancer.start()
    for watcher in watchers:
        watcher.start()
    _wait_stored(second, cid, auth, "before")
    for old in (first, second):
        balancer.take_out(old)
        assert old.stop() == 0  # SIGTERM: in-flight requests finish, sockets told to go
        balancer.put_in(servers.start())
        if old is first:
            stub.release()  # the agent goes on while its first owner is gone
    for watcher in watchers:
        watcher.join(timeout=WAIT_S)
    balancer.close()
    survivor = balancer.pick()
    stored = _assert_complete(survivor, cid, auth, agent_server)
    assert balancer.failed == []
    assert balancer.answered > 0
    for watcher in watchers:
        assert watcher.failure is None, repr(watcher.failure)
        assert _ids(watcher.events) == _ids(stored)[: len(watcher.events)]
        assert watcher.events[-1]["payload"].get("value") == "finished"
    assert sum(watcher.reconnects for watcher in watchers) >= len(watchers)


def _sandbox_of(data_dir: Path) -> HostInfo:
    """Where the one sandbox a node started answers, from its record."""
    (state,) = (data_dir / "agent-server" / "sandboxes").glob("org-*/host.json")
    recorded = json.loads(state.read_text())
    return HostInfo(
        base_url=f"http://127.0.0.1:{recorded['port']}", session_key=recorded["session_key"]
    )


def test_a_killed_nodes_sandboxed_conversation_is_taken_over_from_another_node(
    tmp_path: Path, postgres_url: str, stub: StubLLM
) -> None:
    """Two nodes (each its own data directory, so its own sandboxes), the local runtime. The
    server of the node whose sandbox runs the conversation is killed; the other node, which
    has no sandbox of it and no file saying where it runs, reaches it where the runtime
    directory says: its socket streams on to the end, every event the agent-server holds is
    stored once, in order, and a message sent through it reaches the agent."""
    token = asyncio.run(_api_token(postgres_url))
    auth = {"Authorization": f"Bearer {token}"}
    settings = {
        **clustered(tmp_path, postgres_url, REDIS_URL),
        "MAESTRIST_DEPENDENCY_TIMEOUT": "2",
        "MAESTRIST_RUNTIME": "local",
        "MAESTRIST_AGENT_SERVER_VENV": str(AGENT_SERVER_VENV),
    }
    first, second = tmp_path / "node-a", tmp_path / "node-b"
    with (
        agent_server_stopped_after(first),
        agent_server_stopped_after(second),
        contextlib.ExitStack() as stack,
    ):
        servers = Cluster(tmp_path, settings, stack)
        owner = servers.start(settings={"MAESTRIST_DATA_DIR": str(first)})
        other = servers.start(settings={"MAESTRIST_DATA_DIR": str(second)})
        owner.http.timeout = WAIT_S  # its sandbox starts cold
        _slow_run(stub)
        cid = _start(owner, auth, stub)
        with _watch(other, cid, token) as socket:
            seen = _read_until(socket, "before")
            owner.close()  # SIGKILL, mid-run: its sandbox goes on without it
            stub.release()
            seen += _read_until_finished(socket)
        stored = _assert_complete(other, cid, auth, _sandbox_of(first))
        assert _ids(seen) == _ids(stored)[: len(seen)]
        assert any(_said(event, "after") for event in seen)

        stub.script(Finish(message="answered on the other node"))
        sent = other.http.post(
            f"/api/conversations/{cid}/messages", json={"text": "And now?"}, headers=auth
        )
        assert sent.status_code in (200, 202, 204), sent.text
        deadline = time.monotonic() + WAIT_S
        while "answered on the other node" not in json.dumps(_stored(other, cid, auth)):
            assert time.monotonic() < deadline, "the message never reached the agent"
            time.sleep(0.2)
        assert not list((second / "agent-server").rglob("host.json"))  # it ran none
