"""`just bench-clustered`: the production path (clustered binding) beside the bare Litestar floor.

In one run it creates a fresh PostgreSQL database (a unique name, dropped at the end), claims an
empty Redis database on loopback (its `maestrist:` keys deleted at the end), migrates with
`maestrist migrate` and serves the clustered binding with `maestrist serve` and the scripted
runtime. An OpenID Connect provider on loopback (the `oidc-provider` stand-in under
`tests/support/oidc_provider`) signs a user in through the server's own sign-in flow; that
session creates an API key, settings, secrets and 25 finished conversations through the API, one
of them with over 100 events. Then, for one and two workers, 64 and 256 connections, the API
key and the session cookie, wrk loads each route; the floor (`scripts/bench_floor.py`) is
served by the same granian in the same run. It also records start-to-ready and resident memory
of both, the websocket fan-out of one conversation to many subscribers on three servers, and
what one redis-py subscriber takes from Redis pub/sub alone. It exits 1 when any answer under
load was not 2xx, and prints the Markdown report either way.
"""

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.queues
import queue
import secrets
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import redis
import redis.asyncio as aioredis
from tests.support.oidc import drive_login, run_oidc_provider
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from domain.identity.scopes import ALL_SCOPES
from scripts.bench import (
    BIN,
    HOST,
    SERVER_CPU,
    WARMUP_S,
    WRK_CPU,
    BenchError,
    Result,
    Server,
    Target,
    clean_env,
    cpu_seconds,
    environment,
    free_port,
    group_members,
    group_rss_bytes,
    load_average,
    measure,
    pinning,
    run_stoppably,
    running,
    table,
    wrk_command,
)

Answer = TypeVar("Answer")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_BASE_URL = "redis://127.0.0.1:6379"
REDIS_CLAIM_KEY = "maestrist-bench:claim"
SIGN_IN_LOGIN = "bench"
CONVERSATIONS = 25
EVENTS_PAGE = 100
SECRETS = 5
DEADLINE_S = 120.0
PACKAGES = ("litestar", "granian", "msgspec", "dishka", "sqlalchemy", "asyncpg", "redis")
REDIS_MESSAGE_PAD = "x" * 16


@dataclass(frozen=True, slots=True)
class Cell:
    """Where one wrk figure was taken."""

    server: str  # "ours" or "floor"
    workers: int
    connections: int
    auth: str  # "API key", "session" or "none"
    route: str  # the route as the report names it


@dataclass(slots=True)
class Footprint:
    """Start-to-ready and resident memory of one server configuration."""

    ready_s: list[float] = field(default_factory=list)
    idle_rss: list[int] = field(default_factory=list)  # bytes, per process
    loaded_rss: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the websocket subscribers received of a burst of events."""

    events: int
    subscribers: int
    connected: int
    deliveries: int
    expected: int
    seconds: float  # from the first event's stamp to the last receipt
    latencies_ms: list[float]
    closed: list[str]
    burst_wall_s: float | None = None  # from sending the burst to its last receipt
    server_cpu_s: float | None = None  # CPU of every fan-out server meanwhile
    client_cpu_s: float | None = None  # CPU of the subscriber processes meanwhile


@dataclass(frozen=True, slots=True)
class PubSubRun:
    mode: str
    messages: int
    received: int
    seconds: float
    latencies_ms: list[float]


@dataclass(slots=True)
class Outcome:
    http: dict[Cell, Result] = field(default_factory=dict)
    footprints: dict[tuple[str, int], Footprint] = field(default_factory=dict)
    fanout: Delivery | None = None
    fanout_missing: str | None = None
    pubsub: list[PubSubRun] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Provisioned:
    api_key: str
    session: str
    conversation: str  # one of the 25, read by the one-conversation route
    long_conversation: str  # the one with over 100 events


# --- PostgreSQL, Redis, keys -------------------------------------------------------------------


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the run, dropped at the end."""
    name = f"maestrist_bench_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    print(f"bench: created database {name}", file=sys.stderr)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print(f"bench: dropped database {name}", file=sys.stderr)


@contextmanager
def empty_redis_database() -> Iterator[str]:
    """The URL of a Redis database nobody uses, claimed by a marker key for the run; the keys
    our servers wrote there and the marker are deleted at the end."""
    token = secrets.token_hex(8)
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_BASE_URL}/{number}")
        try:
            if not client.set(REDIS_CLAIM_KEY, token, nx=True):
                continue
            if client.dbsize() == 1:
                break
            client.delete(REDIS_CLAIM_KEY)
        finally:
            client.close()
    else:
        raise BenchError("no empty Redis database on loopback to run in")
    url = f"{REDIS_BASE_URL}/{number}"
    print(f"bench: using Redis database {number}", file=sys.stderr)
    try:
        yield url
    finally:
        client = redis.Redis.from_url(url)
        try:
            doomed = list(client.scan_iter(match="maestrist:*", count=1000))
            for start in range(0, len(doomed), 500):
                client.delete(*doomed[start : start + 500])
            if client.get(REDIS_CLAIM_KEY) == token.encode():
                client.delete(REDIS_CLAIM_KEY)
        finally:
            client.close()


def maestrist(*arguments: str, env: Mapping[str, str]) -> str:
    completed = subprocess.run(
        [str(BIN / "maestrist"), *arguments],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise BenchError(f"maestrist {shlex.join(arguments)} failed:\n{completed.stderr}")
    return completed.stdout.strip()


# --- provisioning through the API ------------------------------------------------------------


def _checked(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response


async def _sign_in(client: httpx.AsyncClient) -> str:
    """A session through the real flow: our /api/auth/login, the provider's login form, our
    callback; returns the session cookie's value."""
    started = _checked(await client.get("/api/auth/login"), 302)
    callback = await drive_login(started.headers["location"], SIGN_IN_LOGIN)
    _checked(await client.get(callback), 302, 303)
    session = client.cookies.get("maestrist_session")
    if not session:
        raise BenchError("the sign-in callback set no session cookie")
    return session


async def _events_after(
    client: httpx.AsyncClient, conversation: str, after: int
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        page = _checked(
            await client.get(
                f"/api/conversations/{conversation}/events",
                params={"after": after, "limit": EVENTS_PAGE},
            ),
            200,
        ).json()
        events.extend(page["items"])
        if page.get("nextAfter") is None or not page["items"]:
            return events
        after = int(page["nextAfter"])


def _finished(event: Mapping[str, Any]) -> bool:
    payload = event.get("payload", {})
    return bool(payload.get("key") == "execution_status" and payload.get("value") == "finished")


async def _until_finished(client: httpx.AsyncClient, conversation: str, after: int) -> int:
    """Wait for the conversation's run to finish after event `after`; the last event's seq."""
    deadline = time.monotonic() + DEADLINE_S
    last = after
    while time.monotonic() < deadline:
        events = await _events_after(client, conversation, last)
        for event in events:
            last = int(event["seq"])
            if _finished(event):
                return last
        await asyncio.sleep(0.02)
    raise BenchError(f"conversation {conversation} did not finish within {DEADLINE_S:g} s")


async def _message(client: httpx.AsyncClient, conversation: str, text: str) -> None:
    _checked(
        await client.post(f"/api/conversations/{conversation}/messages", json={"text": text}), 202
    )


async def _start_conversation(client: httpx.AsyncClient, title: str) -> str:
    created = _checked(
        await client.post("/api/conversations", json={"title": title, "message": "Hello"}), 201
    ).json()
    conversation = str(created["id"])
    await _until_finished(client, conversation, 0)
    return conversation


async def _provision(base: str) -> Provisioned:
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as browser:
        session = await _sign_in(browser)
        key = _checked(
            await browser.post(
                "/api/keys",
                json={"name": "bench", "scopes": sorted(ALL_SCOPES)},
            ),
            201,
        ).json()["token"]
    bearer = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=base, timeout=30, trust_env=False, headers=bearer
    ) as client:
        _checked(
            await client.post(
                "/api/settings",
                json={"llmModel": "openai/gpt-4o", "llmApiKey": "sk-bench-not-real"},
            ),
            200,
        )
        for number in range(SECRETS):
            _checked(
                await client.post(
                    "/api/secrets",
                    json={"name": f"BENCH_SECRET_{number}", "value": secrets.token_hex(16)},
                ),
                201,
            )
        conversations = [
            await _start_conversation(client, f"Benchmark {number + 1}")
            for number in range(CONVERSATIONS)
        ]
        long = conversations[0]
        last = await _until_finished(client, long, 0)
        turn = 0
        while last <= EVENTS_PAGE:
            turn += 1
            await _message(client, long, f"Once more ({turn})")
            last = await _until_finished(client, long, last)
        page = await client.get(
            f"/api/conversations/{long}/events", params={"after": 0, "limit": EVENTS_PAGE}
        )
        if len(_checked(page, 200).json()["items"]) != EVENTS_PAGE:
            raise BenchError(f"the events page of {long} has fewer than {EVENTS_PAGE} events")
    print(
        f"bench: provisioned a session, an API key, {SECRETS} secrets and {CONVERSATIONS} "
        f"conversations ({last} events in one)",
        file=sys.stderr,
    )
    return Provisioned(
        api_key=key, session=session, conversation=conversations[-1], long_conversation=long
    )


# --- HTTP load -------------------------------------------------------------------------------


def routes(provisioned: Provisioned) -> list[tuple[str, str, str]]:
    """(name, path, the floor route it is held against) of every authenticated route."""
    long, one = provisioned.long_conversation, provisioned.conversation
    return [
        ("`GET /api/conversations?limit=20`", "/api/conversations?limit=20", "/items"),
        ("`GET /api/conversations/{id}`", f"/api/conversations/{one}", "/hello"),
        (
            f"`GET /api/conversations/{{id}}/events?limit={EVENTS_PAGE}`",
            f"/api/conversations/{long}/events?after=0&limit={EVENTS_PAGE}",
            "/items",
        ),
        ("`GET /api/settings`", "/api/settings", "/hello"),
        ("`GET /api/secrets`", "/api/secrets", "/hello"),
        ("`GET /api/user/me`", "/api/user/me", "/hello"),
    ]


FLOOR_ROUTES = (("`GET /hello`", "/hello"), ("`GET /items`", "/items"))
LIVE = ("`GET /health/live`", "/health/live", "/hello")


def credentials(provisioned: Provisioned, auth: str) -> tuple[str, ...]:
    if auth == "key":
        return (f"Authorization: Bearer {provisioned.api_key}",)
    return (f"Cookie: maestrist_session={provisioned.session}",)


AUTH_NAMES = {"key": "API key", "session": "session"}


def cpus_for(workers: int) -> int | str:
    return SERVER_CPU if workers == 1 else f"{min(SERVER_CPU, WRK_CPU)}-{max(SERVER_CPU, WRK_CPU)}"


def total_rss(sizes: Sequence[int]) -> str:
    return f"{sum(sizes) / 2**20:,.0f} MiB ({', '.join(f'{s / 2**20:,.0f}' for s in sizes)})"


def load_server(
    outcome: Outcome,
    server: Server,
    ready_url: str,
    key: tuple[str, int],
    cells: Sequence[tuple[Cell, Target]],
    base: str,
    args: argparse.Namespace,
) -> None:
    footprint = outcome.footprints.setdefault(key, Footprint())
    with running(server, ready_url):
        assert server.ready_s is not None
        footprint.ready_s.append(server.ready_s)
        footprint.idle_rss = group_rss_bytes(server.pgid)
        for cell, target in cells:
            outcome.http[cell] = measure(
                target,
                base,
                server,
                runs=args.runs,
                duration=args.duration,
                connections=cell.connections,
                warmup=args.warmup,
            )
        footprint.loaded_rss = group_rss_bytes(server.pgid)


def start_times(make: Callable[[], Server], ready_url: str, starts: int) -> list[float]:
    """Process start to the first 200 of `ready_url`, `starts` times."""
    times = []
    for _ in range(starts):
        server = make()
        with running(server, ready_url):
            assert server.ready_s is not None
            times.append(server.ready_s)
    return times


# --- websocket fan-out -----------------------------------------------------------------------


def _stamp_s(occurred_at: str) -> float:
    return datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).timestamp()


def subscriber_process(
    urls: list[str],
    headers: dict[str, str],
    commands: "multiprocessing.queues.Queue[tuple[Any, ...]]",
    answers: "multiprocessing.queues.Queue[dict[str, Any]]",
) -> None:
    """A client process holding websocket subscribers; it answers `commands` on `answers`."""
    asyncio.run(_subscribe(urls, headers, commands, answers))


async def _subscribe(
    urls: list[str],
    headers: dict[str, str],
    commands: "multiprocessing.queues.Queue[tuple[Any, ...]]",
    answers: "multiprocessing.queues.Queue[dict[str, Any]]",
) -> None:
    received: list[list[tuple[int, str, float]]] = [[] for _ in urls]
    closed: dict[int, str] = {}
    sockets: list[ClientConnection | None] = [None] * len(urls)
    opening = asyncio.Semaphore(50)

    async def follow(index: int, url: str) -> None:
        try:
            async with opening:
                socket = await connect(
                    url, additional_headers=headers, max_size=None, open_timeout=60
                )
            sockets[index] = socket
            async for message in socket:
                now = time.time()
                frame = json.loads(message)
                if frame.get("type") == "event":
                    event = frame["event"]
                    received[index].append((int(event["seq"]), event["occurredAt"], now))
            closed[index] = f"closed {socket.close_code} {socket.close_reason}"
        except (OSError, ConnectionClosed, TimeoutError) as error:
            closed[index] = f"{type(error).__name__}: {error}"

    readers = [asyncio.create_task(follow(i, url)) for i, url in enumerate(urls)]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and sum(s is not None for s in sockets) + len(closed) < len(
        urls
    ):
        await asyncio.sleep(0.05)
    answers.put({"connected": sum(s is not None for s in sockets), "closed": dict(closed)})
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, commands.get)
        if command[0] == "stop":
            break
        _, after, last = command
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and not all(
            index in closed or (rows and rows[-1][0] >= last) for index, rows in enumerate(received)
        ):
            await asyncio.sleep(0.02)
        latencies, first_stamp, last_receipt, deliveries = [], float("inf"), 0.0, 0
        for rows in received:
            for seq, occurred_at, at in rows:
                if after < seq <= last:
                    stamp = _stamp_s(occurred_at)
                    latencies.append((at - stamp) * 1000)
                    first_stamp, last_receipt = min(first_stamp, stamp), max(last_receipt, at)
                    deliveries += 1
        answers.put(
            {
                "deliveries": deliveries,
                "latencies": latencies,
                "first_stamp": first_stamp,
                "last_receipt": last_receipt,
                "closed": dict(closed),
            }
        )
    for socket in sockets:
        if socket is not None:
            await socket.close()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


async def _burst(
    base: str, key: str, conversation: str, after: int, messages: int, final: str | None = None
) -> int:
    """Send `messages` messages back to back, then a last one (`final`, or a marked text); the
    seq of the final event: the end of the run that is going on when the last message
    arrives, or of the one it starts. A last message `/burst N SIZE` has the scripted runtime
    answer with N agent messages of SIZE characters in one run."""
    marker = final or f"Last one {secrets.token_hex(8)}"
    async with httpx.AsyncClient(
        base_url=base, timeout=30, trust_env=False, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        for number in range(messages):
            await _message(client, conversation, f"Burst {number}")
        await _message(client, conversation, marker)
        deadline = time.monotonic() + DEADLINE_S
        last, marked = after, False
        while time.monotonic() < deadline:
            for event in await _events_after(client, conversation, last):
                last = int(event["seq"])
                marked = marked or marker in json.dumps(event["payload"])
                if marked and _finished(event):
                    return last
            await asyncio.sleep(0.02)
    raise BenchError(f"conversation {conversation} did not finish within {DEADLINE_S:g} s")


async def _start_fanout_conversation(base: str, key: str) -> tuple[str, int]:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, trust_env=False, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        conversation = await _start_conversation(client, "Fan-out")
        events = await _events_after(client, conversation, 0)
        return conversation, int(events[-1]["seq"])


def _answer(answers: "multiprocessing.queues.Queue[Answer]") -> Answer:
    try:
        return answers.get(timeout=DEADLINE_S + 30)
    except queue.Empty:
        raise BenchError(f"a client process gave no answer within {DEADLINE_S + 30:g} s") from None


def fanout(
    outcome: Outcome,
    provisioned: Provisioned,
    make: Callable[[str, int], Server],
    args: argparse.Namespace,
) -> None:
    """One conversation on the first server streaming to subscribers spread over every server."""
    ctx = multiprocessing.get_context("spawn")
    ports: list[int] = []
    for _ in range(args.fanout_servers):
        ports.append(free_port(taken=ports))
    with ExitStack() as stack:
        servers = [
            stack.enter_context(running(make(f"fan-out server {n + 1}", port), _ready(port)))
            for n, port in enumerate(ports)
        ]
        owner = f"http://{HOST}:{ports[0]}"
        conversation, last = asyncio.run(_start_fanout_conversation(owner, provisioned.api_key))
        urls = [
            f"ws://{HOST}:{ports[i % len(ports)]}/ws/conversations/{conversation}?after={last}"
            for i in range(args.subscribers)
        ]
        groups = [urls[i :: args.client_processes] for i in range(args.client_processes)]
        headers = {"Authorization": f"Bearer {provisioned.api_key}"}
        commands = [ctx.Queue() for _ in groups]
        answers: multiprocessing.queues.Queue[dict[str, Any]] = ctx.Queue()
        clients = [
            ctx.Process(target=subscriber_process, args=(group, headers, queue, answers))
            for group, queue in zip(groups, commands, strict=True)
        ]
        for client in clients:
            client.start()
        try:
            opened = [_answer(answers) for _ in clients]
            connected = sum(int(answer["connected"]) for answer in opened)
            print(f"bench: fan-out: {connected} of {len(urls)} sockets open", file=sys.stderr)

            def collect(after: int, until: int) -> list[dict[str, Any]]:
                for queue in commands:
                    queue.put(("collect", after, until))
                return [_answer(answers) for _ in clients]

            primed = asyncio.run(_burst(owner, provisioned.api_key, conversation, last, 0))
            collect(last, primed)  # every socket is live before the burst
            burst = f"/burst {args.burst_events} {args.burst_size}" if args.burst_events else None
            cpu_before = _fanout_cpu(servers, clients)
            sent = time.monotonic()
            final = asyncio.run(
                _burst(owner, provisioned.api_key, conversation, primed, args.burst_messages, burst)
            )
            got = collect(primed, final)
            burst_wall_s = time.monotonic() - sent
            cpu_after = _fanout_cpu(servers, clients)
        finally:
            for queue in commands:
                queue.put(("stop",))
            for client in clients:
                client.join(timeout=30)
                if client.is_alive():
                    client.kill()
    first = min(float(answer["first_stamp"]) for answer in got)
    last_receipt = max(float(answer["last_receipt"]) for answer in got)
    events = final - primed
    outcome.fanout = Delivery(
        events=events,
        subscribers=len(urls),
        connected=connected,
        deliveries=sum(int(answer["deliveries"]) for answer in got),
        expected=events * len(urls),
        seconds=last_receipt - first,
        latencies_ms=[latency for answer in got for latency in answer["latencies"]],
        closed=[reason for answer in got for reason in answer["closed"].values()],
        burst_wall_s=burst_wall_s,
        server_cpu_s=_spent(cpu_before[0], cpu_after[0]),
        client_cpu_s=_spent(cpu_before[1], cpu_after[1]),
    )


def _ready(port: int) -> str:
    return f"http://{HOST}:{port}/health/ready"


def _fanout_cpu(
    servers: Sequence[Server], clients: Sequence[multiprocessing.process.BaseProcess]
) -> tuple[float | None, float | None]:
    """CPU seconds so far of the fan-out servers and of the subscriber processes."""
    server_pids = [pid for server in servers for pid in group_members(server.pgid)]
    return cpu_seconds(server_pids), cpu_seconds([c.pid for c in clients if c.pid is not None])


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


# --- Redis pub/sub alone -------------------------------------------------------------------


def redis_subscriber(
    url: str,
    channel: str,
    ready: Any,
    answers: "multiprocessing.queues.Queue[tuple[int, float, list[float]]]",
) -> None:
    asyncio.run(_redis_subscribe(url, channel, ready, answers))


async def _redis_subscribe(
    url: str,
    channel: str,
    ready: Any,
    answers: "multiprocessing.queues.Queue[tuple[int, float, list[float]]]",
) -> None:
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    ready.set()
    latencies: list[float] = []
    last = 0.0
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        now = time.monotonic_ns()
        data: bytes = message["data"]
        if data == b"END":
            break
        latencies.append((now - int(data.split(b":", 1)[0])) / 1e6)
        last = now / 1e9
    answers.put((len(latencies), last, latencies))
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    await client.aclose()


async def _publish(url: str, channel: str, messages: int, batch: int) -> float:
    """Publish `messages` stamped messages, `batch` per round trip; the first stamp (s)."""
    client = aioredis.Redis.from_url(url)
    first = time.monotonic_ns() / 1e9
    try:
        for start in range(0, messages, batch):
            if batch == 1:
                await client.publish(channel, f"{time.monotonic_ns()}:{start}:{REDIS_MESSAGE_PAD}")
                continue
            pipe = client.pipeline(transaction=False)
            for seq in range(start, min(start + batch, messages)):
                pipe.publish(channel, f"{time.monotonic_ns()}:{seq}:{REDIS_MESSAGE_PAD}")  # type: ignore[unused-awaitable]  # queued on the pipeline
            await pipe.execute()
        await client.publish(channel, "END")
    finally:
        await client.aclose()
    return first


def redis_pubsub(outcome: Outcome, redis_url: str, args: argparse.Namespace) -> None:
    """What one redis-py subscriber takes from Redis pub/sub alone (the notes' section 6)."""
    ctx = multiprocessing.get_context("spawn")
    for mode, messages, batch in (
        ("sequential `await publish(...)`", args.pubsub_messages // 5, 1),
        ("pipelined, 100 PUBLISH per round trip", args.pubsub_messages, 100),
    ):
        channel = f"maestrist-bench:{secrets.token_hex(8)}"
        ready = ctx.Event()
        answers: multiprocessing.queues.Queue[tuple[int, float, list[float]]] = ctx.Queue()
        process = ctx.Process(target=redis_subscriber, args=(redis_url, channel, ready, answers))
        process.start()
        try:
            if not ready.wait(timeout=60):
                raise BenchError("the redis-py subscriber did not subscribe")
            first = asyncio.run(_publish(redis_url, channel, messages, batch))
            received, last, latencies = _answer(answers)
        finally:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        outcome.pubsub.append(
            PubSubRun(
                mode=mode,
                messages=messages,
                received=received,
                seconds=last - first,
                latencies_ms=latencies,
            )
        )


# --- report ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _rps(result: Result) -> str:
    return f"{result.median('rps'):,.0f} req/s"


def _p99(result: Result) -> str:
    return f"{result.median('p99_ms'):,.1f} ms"


def _times(numerator: float, denominator: float) -> str:
    """A ratio with three significant digits: 0.0182x, 0.57x, 1.45x; n/a when either side is
    0 (wrk reports latencies of 0 when no request completed within the run)."""
    return f"{numerator / denominator:.3g}x" if numerator and denominator else "n/a"


def _verdict(*, met: bool) -> str:
    return "yes" if met else "**no**"


def goals(outcome: Outcome, args: argparse.Namespace) -> list[str]:
    """The issue's goals table, each with what this run measured."""
    conns = args.connections[0]

    def get(server: str, route: str, workers: int = 1, auth: str = "API key") -> Result | None:
        wanted = "none" if server == "floor" or route == LIVE[0] else auth
        return outcome.http.get(Cell(server, workers, conns, wanted, route))

    rows = ["| measure | goal | measured | met |", "|---|---|---|---|"]
    items, hello = get("floor", "`GET /items`"), get("floor", "`GET /hello`")
    listing = get("ours", routes_names()[0])
    if listing and items:
        rps = listing.median("rps") / items.median("rps")
        p99 = listing.median("p99_ms") / items.median("p99_ms")
        rows.append(
            f"| conversation list, 20 items, API key, {conns} conns | >= 0.4x the floor's "
            f"`/items`; p99 <= 3x | {rps:.3f}x ({_rps(listing)} / {_rps(items)}); p99 {p99:.1f}x "
            f"({_p99(listing)} / {_p99(items)}) | "
            f"{_verdict(met=rps >= 0.4 and p99 <= 3)} |"
        )
    for name in ("`GET /api/settings`", "`GET /api/user/me`"):
        ours = get("ours", name)
        if ours and hello:
            value = ours.median("rps") / hello.median("rps")
            rows.append(
                f"| {name}, API key | >= 0.5x the floor's `/hello` | {value:.3f}x "
                f"({_rps(ours)} / {_rps(hello)}) "
                f"| {_verdict(met=value >= 0.5)} |"
            )
    live = get("ours", LIVE[0])
    if live and hello:
        value = live.median("rps") / hello.median("rps")
        rows.append(
            f"| liveness | >= 0.8x the floor's `/hello` | {value:.3f}x "
            f"({_rps(live)} / {_rps(hello)}) "
            f"| {_verdict(met=value >= 0.8)} |"
        )
    for name in (routes_names()[0], "`GET /api/user/me`"):
        one, two = get("ours", name, 1), get("ours", name, 2)
        if one and two:
            value = two.median("rps") / one.median("rps")
            rows.append(
                f"| two workers on two cores, {name}, API key | >= 1.6x one worker "
                f"| {value:.2f}x ({_rps(two)} / {_rps(one)}) "
                f"| {_verdict(met=value >= 1.6)} |"
            )
    ours_fp, floor_fp = outcome.footprints.get(("ours", 1)), outcome.footprints.get(("floor", 1))
    if ours_fp and floor_fp and ours_fp.ready_s and floor_fp.ready_s:
        mine, theirs = _median(ours_fp.ready_s), _median(floor_fp.ready_s)
        rows.append(
            f"| start to ready | <= 1 s and <= 3x the floor | {mine:.2f} s, "
            f"{mine / theirs:.1f}x the floor's {theirs:.2f} s "
            f"| {_verdict(met=mine <= 1 and mine <= 3 * theirs)} |"
        )
    if ours_fp and floor_fp and ours_fp.idle_rss and floor_fp.idle_rss:
        value = sum(ours_fp.idle_rss) / sum(floor_fp.idle_rss)
        rows.append(
            f"| idle RSS, all processes | <= 2x the floor | {value:.1f}x "
            f"({sum(ours_fp.idle_rss) / 2**20:,.0f} / {sum(floor_fp.idle_rss) / 2**20:,.0f} MiB) "
            f"| {_verdict(met=value <= 2)} |"
        )
    fan = outcome.fanout
    if fan is not None:
        rate = fan.deliveries / fan.seconds if fan.seconds > 0 else 0.0
        p99 = percentile(fan.latencies_ms, 0.99)
        rows.append(
            f"| websocket fan-out, 1 -> {fan.subscribers} subscribers on "
            f"{args.fanout_servers} servers | >= 50,000 deliveries/s, p99 <= 50 ms "
            f"| {rate:,.0f} deliveries/s, p99 {p99:,.1f} ms "
            f"| {_verdict(met=rate >= 50_000 and p99 <= 50 and fan.deliveries == fan.expected)} |"
        )
    else:
        rows.append(
            "| websocket fan-out | >= 50,000 deliveries/s, p99 <= 50 ms "
            f"| not measured: {outcome.fanout_missing or 'skipped'} | n/a |"
        )
    for connections in [] if args.only_fanout else args.connections:
        bad = sum(
            run.non2xx
            for cell, result in outcome.http.items()
            if cell.server == "ours" and cell.connections == connections
            for run in (*result.runs, result.warmup)
        )
        rows.append(
            f"| non-2xx at {connections} connections (every route, auth and worker count) "
            f"| 0 | {bad:,} | {_verdict(met=bad == 0)} |"
        )
    return rows


def routes_names() -> list[str]:
    return [name for name, _, _ in routes_names_full()]


def http_sections(outcome: Outcome, args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    for workers in args.workers:
        for connections in args.connections:
            cells = [
                (cell, result)
                for cell, result in outcome.http.items()
                if cell.workers == workers and cell.connections == connections
            ]
            if not cells:
                continue
            noun = "worker" if workers == 1 else "workers"
            lines += [f"#### {workers} {noun}, {connections} connections", ""]
            lines += table([result for _, result in cells])
            lines.append("")
            floor = {cell.route: result for cell, result in cells if cell.server == "floor"}
            against = {name: floor_path for name, _, floor_path in [*routes_names_full(), LIVE]}
            for cell, result in cells:
                if cell.server != "ours":
                    continue
                reference = floor.get(f"`GET {against[cell.route]}`")
                if reference is None:
                    continue
                lines.append(
                    f"- {result.target.label}: ours/floor `{against[cell.route]}` req/s "
                    f"**{_times(result.median('rps'), reference.median('rps'))}**, "
                    f"p99 {_times(result.median('p99_ms'), reference.median('p99_ms'))}"
                )
            lines.append("")
    return lines


def routes_names_full() -> list[tuple[str, str, str]]:
    return routes(Provisioned("", "", "", ""))


def footprint_section(outcome: Outcome) -> list[str]:
    lines = [
        (
            "| server | start to ready, median (range) | idle RSS, MiB total (per process) "
            "| RSS after load |"
        ),
        "|---|--:|--:|--:|",
    ]
    for (server, workers), footprint in outcome.footprints.items():
        ready = footprint.ready_s
        span = f"{min(ready):.2f}-{max(ready):.2f}" if ready else "n/a"
        lines.append(
            f"| {server}, {workers} worker{'s' if workers > 1 else ''} "
            f"| {_median(ready):.2f} s ({span}, {len(ready)} start{'s' if len(ready) > 1 else ''}) "
            f"| {total_rss(footprint.idle_rss)} | {total_rss(footprint.loaded_rss)} |"
        )
    return lines


def fanout_section(outcome: Outcome, args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    fan = outcome.fanout
    if fan is None:
        lines.append(f"Websocket fan-out not measured: {outcome.fanout_missing or 'skipped'}.")
    else:
        rate = fan.deliveries / fan.seconds if fan.seconds > 0 else 0.0
        lines += [
            (
                "| subscribers (open) | servers | events in the burst | deliveries (expected) "
                "| deliveries/s | p50 ms | p99 ms | max ms | sockets closed |"
            ),
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
            (
                f"| {fan.subscribers} ({fan.connected}) | {args.fanout_servers} | {fan.events} "
                f"| {fan.deliveries:,} ({fan.expected:,}) | **{rate:,.0f}** "
                f"| {percentile(fan.latencies_ms, 0.5):,.1f} "
                f"| **{percentile(fan.latencies_ms, 0.99):,.1f}** "
                f"| {max(fan.latencies_ms, default=float('nan')):,.1f} | {len(fan.closed)} |"
            ),
        ]
        if fan.burst_wall_s and fan.server_cpu_s is not None and fan.client_cpu_s is not None:
            wall = fan.burst_wall_s
            lines += [
                "",
                (
                    f"CPU from sending the burst to its last receipt ({wall:.1f} s): the fan-out "
                    f"servers {fan.server_cpu_s:.1f} s ({100 * fan.server_cpu_s / wall:.0f}% of "
                    f"a CPU), the subscriber processes {fan.client_cpu_s:.1f} s "
                    f"({100 * fan.client_cpu_s / wall:.0f}%)."
                ),
            ]
        if fan.closed:
            reasons = Counter(fan.closed).most_common()
            lines += ["", "Sockets closed before the end:", ""]
            lines += [f"- {count} x {reason}" for reason, count in reasons]
    if outcome.pubsub:
        lines += [
            "",
            (
                "Redis pub/sub alone, one redis-py (`redis.asyncio`) subscriber process, one "
                "publisher, messages of about 35 bytes:"
            ),
            "",
            "| publisher | messages | received | delivered msg/s | p50 ms | p99 ms |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for run in outcome.pubsub:
            rate = run.received / run.seconds if run.seconds > 0 else 0.0
            lines.append(
                f"| {run.mode} | {run.messages:,} | {run.received:,} | **{rate:,.0f}** "
                f"| {percentile(run.latencies_ms, 0.5):,.2f} "
                f"| {percentile(run.latencies_ms, 0.99):,.2f} |"
            )
    return lines


def report(outcome: Outcome, args: argparse.Namespace, when: str, started: str | None) -> str:
    why_not = pinning()
    placement = (
        f"one worker: the server on CPU {SERVER_CPU}; two workers: the server on CPUs "
        f"{cpus_for(2)} (sharing CPU {WRK_CPU} with wrk); wrk on CPU {WRK_CPU}; PostgreSQL "
        "and Redis unpinned; the fan-out servers, subscriber processes and Redis baseline "
        "unpinned"
        if why_not is None
        else f"not pinned ({why_not})"
    )
    protocol = (
        f"per target one {args.warmup} s warm-up (not counted), then {args.runs} x "
        f"{args.duration} s wrk runs; median and min-max of each metric on its own; server CPU "
        "= CPU seconds of the server's process group per wall second (100% = one CPU); other "
        "CPU = everything else on the machine but wrk (PostgreSQL and Redis included); steal = "
        "time the hypervisor took from CPU 0. Start to ready: process start to the first 200 "
        "of `/health/ready` (ours, migrated database) or `/health` (floor), polled every 10 ms. "
        "Fan-out latency: the event's `occurredAt` (stamped by the scripted runtime just before "
        "the owner stores it) to its receipt by a subscriber, wall clock of this machine"
    )
    invocation = shlex.join(["just", "bench-clustered", *args.argv])
    python = shlex.join([".venv/bin/python", "-m", "scripts.bench_clustered", *args.argv])
    return "\n".join(
        [
            f"Measured {when} by `{invocation}` (`{python}`).",
            "",
            "#### Goals (issue 12), as ratios to the floor in this run",
            "",
            *goals(outcome, args),
            "",
            *http_sections(outcome, args),
            *(
                []
                if args.only_fanout
                else ["#### Start to ready and memory", "", *footprint_section(outcome), ""]
            ),
            (
                f"#### Websocket fan-out ({args.subscribers} subscribers, {args.fanout_servers} "
                "servers) and Redis pub/sub alone"
            ),
            "",
            *fanout_section(outcome, args),
            "",
            *environment(placement, started, protocol, PACKAGES),
            "",
            (
                "Commands (ports, database and Redis database are picked on each run; keys are "
                "made by `maestrist new-key`):"
            ),
            "",
            "```",
            *(f"{command}  # {name}" for name, command in outcome.commands.items()),
            "```",
        ]
    )


# --- main ------------------------------------------------------------------------------------


def _numbers(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive numbers")
    return values


def _auths(text: str) -> list[str]:
    values = [part for part in text.split(",") if part]
    if not values or set(values) - set(AUTH_NAMES):
        raise argparse.ArgumentTypeError("a comma-separated list of: key, session")
    return values


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="just bench-clustered", description=(__doc__ or "").split("\n\n", 1)[1]
    )
    parser.add_argument("--runs", type=int, default=3, help="measured wrk runs per target")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=WARMUP_S, help="seconds of warm-up")
    parser.add_argument("--connections", type=_numbers, default=[64, 256], help="e.g. 64,256")
    parser.add_argument("--workers", type=_numbers, default=[1, 2], help="e.g. 1,2")
    parser.add_argument("--auth", type=_auths, default=["key", "session"], help="key,session")
    parser.add_argument("--starts", type=int, default=5, help="extra starts timed per server")
    parser.add_argument("--subscribers", type=int, default=500, help="websocket subscribers")
    parser.add_argument("--fanout-servers", type=int, default=3, help="servers they spread on")
    parser.add_argument("--client-processes", type=int, default=2, help="subscriber processes")
    parser.add_argument(
        "--burst-events",
        type=int,
        default=2000,
        help="events of the burst, from one `/burst N` message to the scripted runtime "
        "(0: drive the burst with --burst-messages messages instead)",
    )
    parser.add_argument(
        "--burst-size", type=int, default=64, help="characters of each burst event's text"
    )
    parser.add_argument(
        "--burst-messages",
        type=int,
        default=0,
        help="messages sent one by one over HTTP before the last one (the burst's driver "
        "when --burst-events is 0)",
    )
    parser.add_argument("--pubsub-messages", type=int, default=100_000, help="Redis baseline")
    parser.add_argument("--no-fanout", action="store_true", help="skip websockets and Redis")
    parser.add_argument(
        "--only-fanout", action="store_true", help="only websockets and Redis pub/sub alone"
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if min(args.runs, args.duration, args.warmup, args.subscribers, args.fanout_servers) < 1:
        parser.error("--runs, --duration, --warmup, --subscribers, --fanout-servers: >= 1")
    if args.starts < 0 or args.client_processes < 1 or args.burst_messages < 0:
        parser.error("--starts >= 0, --client-processes >= 1, --burst-messages >= 0")
    if not 0 <= args.burst_events <= 100_000 or not 1 <= args.burst_size <= 65_536:
        parser.error("--burst-events 0-100000, --burst-size 1-65536")
    if not args.burst_events and not args.burst_messages:
        parser.error("--burst-events 0 needs --burst-messages >= 1")
    if args.no_fanout and args.only_fanout:
        parser.error("--no-fanout and --only-fanout exclude each other")
    args.argv = [
        f"--runs={args.runs}",
        f"--duration={args.duration}",
        f"--warmup={args.warmup}",
        f"--connections={','.join(map(str, args.connections))}",
        f"--workers={','.join(map(str, args.workers))}",
        f"--auth={','.join(args.auth)}",
        f"--starts={args.starts}",
        f"--subscribers={args.subscribers}",
        f"--fanout-servers={args.fanout_servers}",
        f"--client-processes={args.client_processes}",
        f"--burst-events={args.burst_events}",
        f"--burst-size={args.burst_size}",
        f"--burst-messages={args.burst_messages}",
        f"--pubsub-messages={args.pubsub_messages}",
        *(["--no-fanout"] if args.no_fanout else []),
        *(["--only-fanout"] if args.only_fanout else []),
    ]
    return args


@dataclass(frozen=True, slots=True)
class Stack:
    """A fresh database, an empty Redis database and the identity provider, with the settings
    every server of ours in the run shares (port and workers aside)."""

    shared: dict[str, str]
    redis_url: str
    workdir: Path

    def server(self, name: str, port: int, workers: int, cpus: int | str) -> Server:
        env = {**self.shared, "MAESTRIST_PORT": str(port), "MAESTRIST_WORKERS": str(workers)}
        return Server(
            name,
            [str(BIN / "maestrist"), "serve"],
            clean_env(**env),
            self.workdir / f"{name.replace(' ', '-')}.log",
            cpus=cpus,
        )

    def provision(self, port: int) -> Provisioned:
        """The benchmark's user, key, settings, secrets and conversations, through the API of a
        server of ours on ``port``, started for it and stopped after."""
        base = f"http://{HOST}:{port}"
        with running(self.server("provisioning", port, 1, SERVER_CPU), f"{base}/health/ready"):
            return asyncio.run(_provision(base))


@contextmanager
def clustered_stack(workdir: Path, ours_base: str) -> Iterator[Stack]:
    """The migrated clustered binding's dependencies for servers of ours at ``ours_base``."""
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database())
        redis_url = stack.enter_context(empty_redis_database())
        provider = stack.enter_context(
            run_oidc_provider(
                f"{ours_base}/api/auth/callback", f"{ours_base}/", access_ttl_s=86_400
            )
        )
        shared = {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": database_url,
            "MAESTRIST_REDIS_URL": redis_url,
            "MAESTRIST_RUNTIME": "scripted",
            "MAESTRIST_DATA_DIR": str(workdir / "data"),
            "MAESTRIST_ENCRYPTION_KEYS": maestrist("new-key", env=clean_env()),
            "MAESTRIST_SIGNING_KEYS": maestrist("new-key", env=clean_env()),
            "MAESTRIST_OIDC_ISSUER": provider.issuer,
            "MAESTRIST_OIDC_CLIENT_ID": provider.client_id,
            "MAESTRIST_OIDC_CLIENT_SECRET": provider.client_secret,
            "MAESTRIST_PUBLIC_URL": ours_base,
            "MAESTRIST_HOST": HOST,
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_LOG_LEVEL": "WARNING",
            "MAESTRIST_RATE_LIMIT_ENABLED": "false",  # one user at full speed, not the limits
        }
        maestrist("migrate", env=clean_env(**shared))
        yield Stack(shared, redis_url, workdir)


def bench(args: argparse.Namespace, workdir: Path, outcome: Outcome) -> None:
    ours_port = free_port()
    floor_port = free_port(taken=[ours_port])
    ours_base, floor_base = f"http://{HOST}:{ours_port}", f"http://{HOST}:{floor_port}"
    with clustered_stack(workdir, ours_base) as stack:
        ours = stack.server

        def floor(workers: int) -> Server:
            command = [
                str(BIN / "granian"),
                "--interface", "asgi",
                "--workers", str(workers),
                "--host", HOST,
                "--port", str(floor_port),
                "--no-ws",
                "--no-log",
                "--factory",
                "scripts.bench_floor:create_app",
            ]  # fmt: skip
            return Server(
                f"the floor, {workers} workers",
                command,
                clean_env(),
                workdir / "floor.log",
                cpus=cpus_for(workers),
            )

        record_commands(outcome, stack.shared, ours("ours", ours_port, 1, SERVER_CPU), floor(1))
        provisioned = stack.provision(ours_port)
        for workers in [] if args.only_fanout else args.workers:
            server = ours(f"ours {workers}w", ours_port, workers, cpus_for(workers))
            cells: list[tuple[Cell, Target]] = []
            for connections in args.connections:
                for auth in args.auth:
                    for name, path, _ in routes(provisioned):
                        label = f"ours {name}, {AUTH_NAMES[auth]}"
                        target = Target(label, path, credentials(provisioned, auth))
                        cell = Cell("ours", workers, connections, AUTH_NAMES[auth], name)
                        cells.append((cell, target))
                cells.append(
                    (
                        Cell("ours", workers, connections, "none", LIVE[0]),
                        Target(f"ours {LIVE[0]}", LIVE[1]),
                    )
                )
            load_server(
                outcome, server, f"{ours_base}/health/ready", ("ours", workers), cells,
                ours_base, args,
            )  # fmt: skip
        for workers in [] if args.only_fanout else args.workers:
            cells = [
                (Cell("floor", workers, connections, "none", name), Target(f"floor {name}", path))
                for connections in args.connections
                for name, path in FLOOR_ROUTES
            ]
            load_server(
                outcome, floor(workers), f"{floor_base}/health", ("floor", workers), cells,
                floor_base, args,
            )  # fmt: skip
        if args.starts and not args.only_fanout:
            print(f"bench: timing {args.starts} more starts of each", file=sys.stderr)
            outcome.footprints[("ours", 1)].ready_s += start_times(
                lambda: ours("ours 1w", ours_port, 1, SERVER_CPU),
                f"{ours_base}/health/ready",
                args.starts,
            )
            outcome.footprints[("floor", 1)].ready_s += start_times(
                lambda: floor(1), f"{floor_base}/health", args.starts
            )
        if args.no_fanout:
            outcome.fanout_missing = "skipped (--no-fanout)"
            return
        print("bench: Redis pub/sub alone", file=sys.stderr)
        redis_pubsub(outcome, stack.redis_url, args)
        print("bench: websocket fan-out", file=sys.stderr)
        fanout(
            outcome,
            provisioned,
            lambda name, port: ours(name, port, 1, cpus_for(2)),
            args,
        )


def _quoted(value: str) -> str:
    """``value`` in single quotes for a POSIX shell, even where it would need none."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _display(command: Sequence[str]) -> str:
    return shlex.join(Path(part).name if part.startswith("/") else part for part in command)


def record_commands(
    outcome: Outcome, shared: Mapping[str, str], server: Server, floor: Server
) -> None:
    hidden = {
        "MAESTRIST_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/<fresh>",
        "MAESTRIST_REDIS_URL": "redis://127.0.0.1:6379/<empty db>",
        "MAESTRIST_ENCRYPTION_KEYS": "<new-key>",
        "MAESTRIST_SIGNING_KEYS": "<new-key>",
        "MAESTRIST_DATA_DIR": "<temporary>",
        "MAESTRIST_OIDC_ISSUER": "http://127.0.0.1:<provider port>",
        "MAESTRIST_OIDC_CLIENT_SECRET": "<its secret>",
        "MAESTRIST_PUBLIC_URL": "http://127.0.0.1:<port>",
    }
    env = {**shared, **hidden, "MAESTRIST_PORT": "<port>", "MAESTRIST_WORKERS": "1|2"}
    # every value quoted: a bare ``maestrist`` value would read as a command in the report
    shown_env = " ".join(f"{name}={_quoted(value)}" for name, value in env.items())
    outcome.commands["our server (two workers: taskset -c 0-1)"] = (
        f"{shown_env} {_display(server.command)}"
    )
    outcome.commands["the floor, from the repository root"] = _display(floor.command)
    outcome.commands["load"] = (
        shlex.join(
            wrk_command(
                "http://127.0.0.1:<port><route>",
                seconds=0,
                connections=0,
                headers=("Authorization: Bearer <key>|Cookie: maestrist_session=<session>",),
            )
        )
        .replace("-d0s", "-d<duration>s")
        .replace("-c0", "-c<64|256>")
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    outcome = Outcome()
    when, started = time.strftime("%Y-%m-%d"), load_average()
    if (status := run_stoppably(lambda workdir: bench(args, workdir, outcome))) is not None:
        return status
    text = report(outcome, args, when, started)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
        print(f"bench: report written to {args.output}", file=sys.stderr)
    failed = [
        f"{result.target.label} ({cell.workers} worker(s), {cell.connections} connections): "
        f"{sum(r.non2xx for r in [*result.runs, result.warmup])} non-2xx"
        for cell, result in outcome.http.items()
        if any(r.non2xx for r in [*result.runs, result.warmup])
    ]
    fan = outcome.fanout
    if fan is not None and fan.deliveries != fan.expected:
        failed.append(f"fan-out delivered {fan.deliveries:,} of {fan.expected:,} events")
    if failed:
        print("bench: FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with suppress(BrokenPipeError):
        sys.exit(main())
