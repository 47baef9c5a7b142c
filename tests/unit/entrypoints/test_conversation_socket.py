"""A socket client that stops reading is disconnected with a clear reason, and the others
keep getting every event meanwhile."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from adapters.memory import InProcessAccessRevocations, InProcessEventFanOut
from application.conversations import (
    ConversationAccess,
    ConversationFeed,
    ConversationStream,
    OpenConversationStreamRequest,
)
from application.errors import DependencyUnavailableError
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, EventType
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.shared.ids import new_id
from entrypoints.http.conversations import CLOSE_SLOW_CLIENT, CLOSE_TRY_AGAIN, SocketPolicy
from entrypoints.http.conversations.socket import _Session
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeStore
from tests.fakes.unit_of_work import FakeUnitsOfWork
from tests.support.polling import GENEROUS_S, until


class StuckSocket:
    """Takes the first frames, then never finishes sending; never sends anything itself."""

    def __init__(self, takes: int) -> None:
        self.takes = takes
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def send_text(self, data: str) -> None:
        if len(self.sent) >= self.takes:
            await asyncio.Event().wait()
        self.sent.append(data)

    async def receive_data(self, mode: str) -> str:
        await asyncio.Event().wait()
        raise AssertionError

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def run(
    socket: StuckSocket, cid: ConversationId, policy: SocketPolicy, feed: object, after: int
) -> None:
    """A socket session on a stream whose access was checked (no frame or revocation here
    checks again)."""
    user = create_user()
    org, membership = create_org(user)
    access = ConversationAccess(
        actor=Principal(user=user, method=AuthMethod.SESSION),
        org=MemberOrganization(organization=org, role=membership.role),
    )
    request = OpenConversationStreamRequest(
        credentials=Credentials(), requested_org=None, conversation_id=cid
    )
    async with InProcessAccessRevocations().subscribe() as revoked:
        stream = ConversationStream(
            request,
            access,
            turns=None,  # type: ignore[arg-type]
            feed=feed,  # type: ignore[arg-type]
            ingest=None,  # type: ignore[arg-type]
            revocations=revoked,
            closing=AsyncExitStack(),
        )
        await _Session(socket, stream, policy).run(after, asyncio.Event())  # type: ignore[arg-type]


def event(cid: ConversationId, seq: int) -> StoredEvent:
    return StoredEvent(
        conversation_id=cid,
        seq=seq,
        event_id=f"e{seq}",
        kind="MessageEvent",
        source="agent",
        type=EventType.MESSAGE,
        occurred_at=T0,
        payload={"n": seq},
    )


async def test_a_client_further_behind_than_its_buffer_is_closed_and_blocks_nobody() -> None:
    cid = ConversationId(new_id())
    fan_out = InProcessEventFanOut()
    feed = ConversationFeed(fan_out, FakeUnitsOfWork(FakeStore()))
    policy = SocketPolicy(heartbeat_s=60, buffer=3, send_timeout_s=0.2)
    stuck = StuckSocket(takes=1)
    running = asyncio.create_task(run(stuck, cid, policy, feed, 0))
    async with fan_out.subscribe(cid, buffer=100) as other:
        await until(lambda: fan_out.subscriber_count(cid) == 2, "the socket's subscription")
        for seq in range(1, 21):
            await asyncio.wait_for(fan_out.publish(cid, [event(cid, seq)]), GENEROUS_S)
        reader = aiter(other)
        assert [(await anext(reader)).seq for _ in range(20)] == list(range(1, 21))
    await asyncio.wait_for(running, GENEROUS_S)
    assert len(stuck.sent) <= 1
    assert stuck.closed is not None
    code, reason = stuck.closed
    assert code == CLOSE_SLOW_CLIENT
    assert "too slow" in reason
    assert "after=" in reason


async def test_a_client_that_takes_too_long_to_take_a_frame_is_closed() -> None:
    cid = ConversationId(new_id())
    fan_out = InProcessEventFanOut()
    feed = ConversationFeed(fan_out, FakeUnitsOfWork(FakeStore()))
    stuck = StuckSocket(takes=1)
    policy = SocketPolicy(heartbeat_s=60, buffer=100, send_timeout_s=0.05)
    running = asyncio.create_task(run(stuck, cid, policy, feed, 0))
    await until(lambda: fan_out.subscriber_count(cid) == 1, "the socket's subscription")
    await fan_out.publish(cid, [event(cid, 1)])
    await until(lambda: len(stuck.sent) == 1, "the first frame sent")
    await fan_out.publish(cid, [event(cid, 2)])
    await asyncio.wait_for(running, GENEROUS_S)
    assert len(stuck.sent) == 1
    assert stuck.closed is not None
    assert stuck.closed[0] == CLOSE_SLOW_CLIENT


class BrokenFeed:
    """A live feed whose source goes away after one event, as a Redis connection can."""

    async def events(
        self, cid: ConversationId, *, after: int, buffer: int
    ) -> AsyncIterator[StoredEvent]:
        yield event(cid, after + 1)
        raise DependencyUnavailableError("Redis cannot be reached.")


async def test_an_interrupted_feed_closes_the_socket_asking_to_reconnect() -> None:
    cid = ConversationId(new_id())
    socket = StuckSocket(takes=10)
    policy = SocketPolicy(heartbeat_s=60, buffer=100, send_timeout_s=1)
    await asyncio.wait_for(run(socket, cid, policy, BrokenFeed(), 4), 2)
    assert len(socket.sent) == 1
    assert '"seq":5' in socket.sent[0]
    assert socket.closed is not None
    code, reason = socket.closed
    assert code == CLOSE_TRY_AGAIN
    assert "after=" in reason
