"""The HTTP edge's rate limits: which limit a route gets, the websocket connect limit, the
headers, and the settings that configure them."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketDisconnect

from application.errors import RateLimitedError
from application.ports.rate_limiter import Rate, RateDecision, RatePolicy
from application.rate_limits import CostlyAction, Costs, Limit, RateLimitCounters, Throttle
from domain.conversations.entities import StoredEvent
from domain.identity.principals import AuthMethod, Principal
from entrypoints.http.client_address import TrustedProxies
from entrypoints.http.conversations import SocketPolicy
from entrypoints.http.conversations.socket import _Session
from entrypoints.http.rate_limits import HttpRateLimits, rate_limit_headers
from entrypoints.settings import Settings, SettingsError
from tests.factories import create_user
from tests.fakes import FakeClock, FakeRateLimiter
from tests.fakes.metrics import FakeMetrics


def limit(name: str, amount: int = 1) -> Limit:
    rates = (Rate(amount=amount, per=timedelta(minutes=1)),)
    return Limit(policy=RatePolicy(name=name, rates=rates), fail_open=True)


def connection(path: str, client: str = "203.0.113.7") -> ASGIConnection[Any, Any, Any, Any]:
    scope = {"type": "http", "path": path, "headers": [], "client": (client, 1), "state": {}}
    return ASGIConnection(scope)  # type: ignore[arg-type]  # the parts of a scope read here


@pytest.fixture
def limiter() -> FakeRateLimiter:
    return FakeRateLimiter(FakeClock())


@pytest.fixture
def sut(limiter: FakeRateLimiter) -> HttpRateLimits:
    return HttpRateLimits(
        throttle=Throttle(limiter, RateLimitCounters(FakeMetrics())),
        proxies=TrustedProxies(),
        per_ip=limit("ip"),
        sign_in_per_ip=limit("sign-in"),
        webhooks_per_ip=limit("webhooks"),
        costly=limit("costly", 5),
        costs=Costs(send_message=2),
        socket_connects=limit("socket-connects"),
    )


@pytest.mark.parametrize(
    ("path", "policy"),
    [
        ("/api/webhooks/github", "webhooks"),
        ("/api/webhooks/stripe/events", "webhooks"),
        ("/api/auth/login", "sign-in"),
        ("/api/auth/callback/", "sign-in"),
        ("/schema/openapi.json", "ip"),
        ("/api/webhooksX", "ip"),
    ],
)
async def test_each_kind_of_anonymous_route_has_its_own_limit(
    sut: HttpRateLimits, limiter: FakeRateLimiter, path: str, policy: str
) -> None:
    await sut.by_address(connection(path))
    assert limiter.hits == [(policy, "ip:203.0.113.7", 1)]
    with pytest.raises(RateLimitedError):
        await sut.by_address(connection(path))


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/api/runtime/git-credential"])
async def test_probes_and_runtimes_are_not_limited(
    sut: HttpRateLimits, limiter: FakeRateLimiter, path: str
) -> None:
    for _ in range(3):
        await sut.by_address(connection(path))
    assert limiter.hits == []


async def test_a_peer_without_an_ip_address_is_not_limited_by_address(
    sut: HttpRateLimits, limiter: FakeRateLimiter
) -> None:
    await sut.by_address(connection("/schema", client="unix-socket"))
    assert limiter.hits == []


async def test_socket_connects_are_limited_per_address(
    sut: HttpRateLimits, limiter: FakeRateLimiter
) -> None:
    await sut.socket_connect(connection("/ws/conversations/x", "2001:db8::5"))
    assert limiter.hits == [("socket-connects", "ip:2001:db8::/64", 1)]
    with pytest.raises(RateLimitedError):
        await sut.socket_connect(connection("/ws/conversations/y", "2001:db8::6"))


async def test_a_socket_message_takes_its_cost_from_the_persons_costly_budget(
    sut: HttpRateLimits, limiter: FakeRateLimiter
) -> None:
    person = Principal(user=create_user("ada"), method=AuthMethod.SESSION)
    await sut.charge(person, CostlyAction.SEND_MESSAGE)
    await sut.charge(person, CostlyAction.SEND_MESSAGE)
    with pytest.raises(RateLimitedError):
        await sut.charge(person, CostlyAction.SEND_MESSAGE)
    assert limiter.hits[0] == ("costly", f"user:{person.user.id_}", 2)


def test_the_headers_name_each_rate_and_what_is_left_of_the_deciding_one() -> None:
    rates = (Rate(amount=20, per=timedelta(seconds=1)), Rate(amount=600, per=timedelta(minutes=1)))
    user = RatePolicy(name="user", rates=rates)
    decision = RateDecision(
        allowed=True, rate=rates[1], remaining=7, reset_after=timedelta(seconds=41.2)
    )
    assert rate_limit_headers({"user": (user, decision)}) == {
        "RateLimit-Policy": '"user-1s";q=20;w=1, "user-60s";q=600;w=60',
        "RateLimit": '"user-60s";r=7;t=42',
    }


def test_rate_limit_settings_parse_the_limits_notation_and_an_off_switch() -> None:
    settings = Settings.from_env(
        {
            "MAESTRIST_RATE_LIMIT_PER_USER": "10 per 30 seconds; 100/hour",
            "MAESTRIST_RATE_LIMIT_PER_ORG": "off",
            "MAESTRIST_RATE_LIMIT_COSTS": "start_conversation=4",
        }
    ).rate_limits
    assert settings.per_user is not None
    assert [(r.amount, r.seconds) for r in settings.per_user.rates] == [(10, 30), (100, 3600)]
    assert settings.per_org is None
    assert settings.costs == Costs(start_conversation=4)


@pytest.mark.parametrize(
    ("env", "wrong"),
    [
        ({"MAESTRIST_RATE_LIMIT_PER_USER": "lots"}, "MAESTRIST_RATE_LIMIT_PER_USER"),
        ({"MAESTRIST_RATE_LIMIT_PER_IP": "0/second"}, "MAESTRIST_RATE_LIMIT_PER_IP"),
        ({"MAESTRIST_RATE_LIMIT_COSTS": "teleport=3"}, "MAESTRIST_RATE_LIMIT_COSTS"),
        ({"MAESTRIST_RATE_LIMIT_COSTS": "checkout=0"}, "MAESTRIST_RATE_LIMIT_COSTS"),
        ({"MAESTRIST_RATE_LIMIT_ON_FAILURE": "maybe"}, "MAESTRIST_RATE_LIMIT_ON_FAILURE"),
        ({"MAESTRIST_RATE_LIMIT_TIMEOUT": "60"}, "MAESTRIST_RATE_LIMIT_TIMEOUT"),
        (
            {"MAESTRIST_RATE_LIMIT_COSTLY_PER_USER": "5/minute"},
            "MAESTRIST_RATE_LIMIT_COSTS",
        ),
    ],
)
def test_bad_rate_limit_settings_are_named(env: dict[str, str], wrong: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert set(refused.value.problems) == {wrong}


class ScriptedSocket:
    """Sends the client's frames in order, then hangs up; keeps what the server sent."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.sent: list[dict[str, Any]] = []

    async def receive_data(self, mode: str) -> str:
        del mode
        if not self.frames:
            raise WebSocketDisconnect(detail="gone")
        return self.frames.pop(0)

    async def send_text(self, data: str) -> None:
        self.sent.append(json.loads(data))

    async def close(self, code: int, reason: str) -> None:
        del code, reason


class QuietStream:
    """A stream with no events and no revocations that takes every message."""

    def __init__(self, actor: Principal) -> None:
        self.actor = actor
        self.messages: list[str | None] = []

    async def events(self, *, after: int, buffer: int) -> AsyncIterator[StoredEvent]:
        del after, buffer
        await asyncio.Event().wait()
        yield  # type: ignore[misc]  # never reached: a generator that never yields

    async def revocations(self) -> AsyncIterator[Any]:
        await asyncio.Event().wait()
        yield

    async def send(self, text: str | None, images: Any = ()) -> None:
        del images
        self.messages.append(text)


async def test_socket_messages_over_the_costly_budget_answer_a_rate_limited_frame(
    sut: HttpRateLimits,
) -> None:
    """Two units of five per message: the third is refused with an error frame, and the
    socket stays open for the next."""
    person = Principal(user=create_user("ada"), method=AuthMethod.SESSION)
    socket = ScriptedSocket([json.dumps({"text": f"m{n}"}) for n in range(3)])
    stream = QuietStream(person)
    session = _Session(socket, stream, SocketPolicy(heartbeat_s=60), limits=sut)  # type: ignore[arg-type]
    await session.run(0, asyncio.Event())
    assert stream.messages == ["m0", "m1"]
    assert [frame["type"] for frame in socket.sent] == ["accepted", "accepted", "error"]
    assert socket.sent[2]["code"] == "rate-limited"
