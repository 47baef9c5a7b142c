"""`just failover`: how long a conversation whose server died waits for another one, and
whether anything is lost on the way (docs/reliability.md records the figures).

In one run it creates a fresh PostgreSQL database (dropped at the end), claims an empty Redis
database on loopback, migrates, starts the OpenHands agent-server from its virtualenv as an
external runtime every server reaches, and a stub LLM whose answer mid-run waits until released.
Then, ``--runs`` times each:

- **killed, watched**: three servers; the owner is killed with SIGKILL mid-run while sockets
  on the two others are open; the time from the kill to each socket's next event;
- **killed, unwatched**: two servers, no socket; the time from the kill to the next event
  stored (the API of the survivor, read every 20 ms);
- **stopped**: as unwatched, but the owner is stopped with SIGTERM, which hands its
  conversations over at once;
- **cut off from PostgreSQL**: as unwatched, but the owner alone loses the database (a proxy
  drops and refuses its connections) and keeps running; it gives the conversation up after
  2 s of storing nothing;
- **restarted**: one server, killed and started again on its port at once; the time from the
  kill to the next event stored;
- **Redis away**: two servers reaching Redis through a proxy that drops and refuses every
  connection for ``--outage`` seconds while the agent works and nobody watches; the time from
  Redis's return to the last event stored;
- **baseline**: the same run with no failure: the time from the LLM's answer to the next
  event on a socket, which every figure above includes.

Each run compares what was stored with what the agent-server holds: events lost, duplicated
or out of order are counted (and must be 0). It prints a Markdown report.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from tests.e2e.test_clustered_conversation import _api_token, _watch
from tests.e2e.test_failover import (
    _from_runtime,
    _proxied,
    _read_until,
    _runtime_ids,
    _said,
    _slow_run,
    _start,
    _stored,
    _wait_finished,
    _wait_lease_gone,
)
from tests.e2e.test_server import RunningServer, clustered, running_server
from tests.support.agent_server import running_agent_server
from tests.support.stub_llm import StubLLM, run_stub_llm
from websockets.sync.connection import Connection

from domain.conversations.value_objects import HostInfo
from scripts.bench import BenchError, clean_env, cpu_model, load_average
from scripts.bench_clustered import empty_redis_database, fresh_database, maestrist

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-agent-server"
POLL_S = 0.02


@dataclass
class Scenario:
    title: str
    measured: str
    seconds: list[float] = field(default_factory=list)
    runs: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0


@dataclass
class Run:
    agent_server: HostInfo
    stub: StubLLM
    settings: dict[str, str]
    auth: dict[str, str]
    redis_url: str
    logs: Path
    stack: ExitStack
    started: int = 0

    def server(
        self, *, port: int | None = None, extra: dict[str, str] | None = None
    ) -> RunningServer:
        self.started += 1
        server = self.stack.enter_context(
            running_server(
                self.logs / f"server-{self.started}.log",
                {**self.settings, **(extra or {})},
                port=port,
            )
        )
        server.http.timeout = 30
        return server

    @contextmanager
    def scenario(self) -> Iterator[None]:
        """The servers started within it are stopped at its end."""
        with ExitStack() as servers:
            outer, self.stack = self.stack, servers
            try:
                yield
            finally:
                self.stack = outer

    @property
    def token(self) -> str:
        return self.auth["Authorization"].removeprefix("Bearer ")


def _tally(scenario: Scenario, run: "Run", server: RunningServer, cid: str) -> None:
    """Counts what was lost, duplicated or reordered, once the store caught up with the
    agent-server (which may add an event just after the run finished)."""
    deadline = time.monotonic() + 30
    while True:
        stored, runtime_ids = _stored(server, cid, run.auth), _runtime_ids(run.agent_server, cid)
        stored = _from_runtime(stored)
        if len(stored) >= len(runtime_ids) or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    ids = [str(event["id"]) for event in stored]
    scenario.runs += 1
    scenario.lost += len(set(runtime_ids) - set(ids))
    scenario.duplicated += len(ids) - len(set(ids))
    kept = [event_id for event_id in runtime_ids if event_id in set(ids)]
    unique = list(dict.fromkeys(ids))
    scenario.reordered += sum(1 for a, b in zip(unique, kept, strict=False) if a != b)


def _next_event(socket: Connection) -> None:
    while json.loads(socket.recv(timeout=120))["type"] != "event":
        pass


def _count_stored(server: RunningServer, cid: str, auth: dict[str, str]) -> int:
    return len(_stored(server, cid, auth))


def _until_more(server: RunningServer, cid: str, auth: dict[str, str], count: int) -> float:
    """The monotonic time at which more than ``count`` events are stored."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _count_stored(server, cid, auth) > count:
            return time.monotonic()
        time.sleep(POLL_S)
    raise BenchError(f"no new event of {cid} stored within 120 s")


def _wait_before(server: RunningServer, cid: str, auth: dict[str, str]) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stored = _stored(server, cid, auth)
        if any(_said(event, "before") for event in stored):
            return len(stored)
        time.sleep(POLL_S)
    raise BenchError(f"{cid} never reached its first step")


def baseline(run: Run, scenario: Scenario) -> None:
    with run.scenario():
        owner = run.server()
        _slow_run(run.stub)
        cid = _start(owner, run.auth, run.stub)
        with _watch(owner, cid, run.token) as socket:
            _read_until(socket, "before")
            released = time.monotonic()
            run.stub.release()
            _next_event(socket)
            scenario.seconds.append(time.monotonic() - released)
        _wait_finished(owner, cid, run.auth)
        _tally(scenario, run, owner, cid)


def killed_watched(run: Run, scenario: Scenario) -> None:
    with run.scenario():
        owner, second, third = run.server(), run.server(), run.server()
        _slow_run(run.stub)
        cid = _start(owner, run.auth, run.stub)
        with _watch(second, cid, run.token) as here, _watch(third, cid, run.token) as there:
            _read_until(here, "before")
            _read_until(there, "before")
            killed = time.monotonic()
            owner.close()
            run.stub.release()
            for socket in (here, there):
                _next_event(socket)
                scenario.seconds.append(time.monotonic() - killed)
        _wait_finished(second, cid, run.auth)
        _tally(scenario, run, second, cid)


def unwatched(
    run: Run,
    scenario: Scenario,
    fail: Callable[[RunningServer], object],
    owner_settings: dict[str, str] | None = None,
) -> None:
    """``fail`` the owner mid-run, nobody watching; time until the other server stores the
    next event."""
    with run.scenario():
        owner, other = run.server(extra=owner_settings), run.server()
        _slow_run(run.stub)
        cid = _start(owner, run.auth, run.stub)
        count = _wait_before(other, cid, run.auth)
        failed = time.monotonic()
        fail(owner)
        run.stub.release()
        scenario.seconds.append(_until_more(other, cid, run.auth, count) - failed)
        _wait_finished(other, cid, run.auth)
        _tally(scenario, run, other, cid)


def cut_off_from_postgresql(run: Run, scenario: Scenario) -> None:
    """The owner alone loses the database (the owner gives up after 2 s of storing
    nothing)."""
    with _proxied(run.settings["MAESTRIST_DATABASE_URL"]) as (proxy, via):
        unwatched(run, scenario, lambda _owner: proxy.stop(), {"MAESTRIST_DATABASE_URL": via})


def restarted(run: Run, scenario: Scenario) -> None:
    with run.scenario():
        owner = run.server()
        _slow_run(run.stub)
        cid = _start(owner, run.auth, run.stub)
        count = _wait_before(owner, cid, run.auth)
        killed = time.monotonic()
        owner.close()
        run.stub.release()
        again = run.server(port=owner.port)
        scenario.seconds.append(_until_more(again, cid, run.auth, count) - killed)
        _wait_finished(again, cid, run.auth)
        _tally(scenario, run, again, cid)


def redis_away(run: Run, scenario: Scenario, outage_s: float) -> None:
    with _proxied(run.redis_url) as (proxy, via_url), run.scenario():
        via = {"MAESTRIST_REDIS_URL": via_url}
        owner, other = run.server(extra=via), run.server(extra=via)
        _slow_run(run.stub)
        cid = _start(owner, run.auth, run.stub)
        _wait_before(other, cid, run.auth)
        proxy.stop()
        stopped = time.monotonic()
        run.stub.release()
        _wait_lease_gone(cid, run.redis_url)
        time.sleep(max(0.0, outage_s - (time.monotonic() - stopped)))
        proxy.start()
        back = time.monotonic()
        _wait_finished(other, cid, run.auth)
        scenario.seconds.append(time.monotonic() - back)
        _tally(scenario, run, other, cid)


def _row(scenario: Scenario) -> str:
    times = sorted(scenario.seconds)
    if times:
        median, worst = statistics.median(times), times[-1]
        figures = f"{median:.2f} s | {worst:.2f} s"
    else:
        figures = "- | -"
    return (
        f"| {scenario.title} | {scenario.measured} | {scenario.runs} | {figures} | "
        f"{scenario.lost} | {scenario.duplicated} | {scenario.reordered} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds Redis is away")
    args = parser.parse_args()
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    started_load = load_average()
    scenarios = {
        "baseline": Scenario("no failure (baseline)", "LLM answer to next event on a socket"),
        "watched": Scenario("owner killed, watched elsewhere", "kill to next event on each socket"),
        "unwatched": Scenario("owner killed, nobody watching", "kill to next event stored"),
        "stopped": Scenario(
            "owner stopped (SIGTERM), nobody watching", "signal to next event stored"
        ),
        "database": Scenario("owner cut off from PostgreSQL", "cut to next event stored"),
        "restarted": Scenario("owner killed, restarted at once", "kill to next event stored"),
        "redis": Scenario(f"Redis away {args.outage:g} s", "Redis back to last event stored"),
    }
    steps: list[tuple[str, Callable[[Run, Scenario], None]]] = [
        ("baseline", baseline),
        ("watched", killed_watched),
        ("unwatched", lambda run, scenario: unwatched(run, scenario, RunningServer.close)),
        ("stopped", lambda run, scenario: unwatched(run, scenario, RunningServer.stop)),
        ("database", cut_off_from_postgresql),
        ("restarted", restarted),
        ("redis", lambda run, scenario: redis_away(run, scenario, args.outage)),
    ]
    with ExitStack() as stack, TemporaryDirectory(prefix="maestrist-failover-") as scratch:
        database = stack.enter_context(fresh_database())
        redis_url = stack.enter_context(empty_redis_database())
        settings = {
            **clustered(Path(scratch), database, redis_url),
            "MAESTRIST_DEPENDENCY_TIMEOUT": "2",
            "MAESTRIST_RATE_LIMIT_ENABLED": "false",  # one user at full speed, not the limits
        }
        maestrist("migrate", env=clean_env(**settings))
        info = stack.enter_context(running_agent_server(VENV, Path(scratch) / "agent-server"))
        stub = stack.enter_context(run_stub_llm())
        settings |= {
            "MAESTRIST_RUNTIME": "external",
            "MAESTRIST_AGENT_SERVER_URL": info.base_url,
            "MAESTRIST_AGENT_SERVER_KEY": info.session_key,
        }
        token = asyncio.run(_api_token(database))
        run = Run(
            agent_server=info,
            stub=stub,
            settings=settings,
            auth={"Authorization": f"Bearer {token}"},
            redis_url=redis_url,
            logs=Path(scratch),
            stack=stack,
        )
        for number in range(args.runs):
            for name, step in steps:
                print(f"failover: run {number + 1}, {scenarios[name].title}", file=sys.stderr)
                step(run, scenarios[name])
    lines = [
        f"### {when}: `just failover --runs={args.runs} --outage={args.outage:g}`",
        "",
        (
            f"{cpu_model()}, {os.cpu_count()} logical CPUs; load average before the run: "
            f"{started_load or 'n/a'}; lease time to live "
            f"{settings.get('MAESTRIST_CONVERSATION_LEASE_TTL', '3 (the default)')} s."
        ),
        "",
        "| scenario | measured | runs | median | worst | lost | duplicated | out of order |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_row(scenario) for scenario in scenarios.values()),
    ]
    print("\n".join(lines))
    failed = any(s.lost or s.duplicated or s.reordered for s in scenarios.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
