"""A socket client that stops reading is disconnected with a clear reason, and the others
keep getting every event meanwhile."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from functools import partial

from adapters.memory import InProcessAccessRevocations, InProcessEventFanOut
from application.conversations import (
    ConversationAccess,
    ConversationFeed,
    ConversationStream,
    OpenConversationStreamRequest,
    StreamAccessLostError,
)
from application.errors import DependencyUnavailableError
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.shared.ids import new_id
from entrypoints.http.conversations import CLOSE_SLOW_CLIENT, CLOSE_TRY_AGAIN, SocketPolicy
from entrypoints.http.conversations.socket import EventFrames, _Session
from tests.factories import create_org, create_stored_event, create_user
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
    socket: StuckSocket,
    cid: ConversationId,
    policy: SocketPolicy,
    feed: object,
    after: int,
    *,
    frames: EventFrames | None = None,
    stream_type: type[ConversationStream] = ConversationStream,
) -> None:
    """A socket session on a stream whose access was checked (no frame or revocation here
    checks again, unless ``stream_type`` does)."""
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
        stream = stream_type(
            request,
            access,
            turns=None,  # type: ignore[arg-type]
            feed=feed,  # type: ignore[arg-type]
            ingest=None,  # type: ignore[arg-type]
            revocations=revoked,
            closing=AsyncExitStack(),
        )
        session = _Session(socket, stream, policy, frames)  # type: ignore[arg-type]
        await session.run(after, asyncio.Event())


def event(cid: ConversationId, seq: int) -> StoredEvent:
    return create_stored_event(cid, seq)


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


async def test_a_slow_client_among_many_is_cut_off_alone_and_each_frame_is_encoded_once() -> None:
    """Twenty sockets on one conversation share the server's frames: each event is encoded
    once, whichever socket sends it first; the one client that stops reading is closed with
    4008 while the others get every event and stay open."""
    cid = ConversationId(new_id())
    fan_out = InProcessEventFanOut()
    feed = ConversationFeed(fan_out, FakeUnitsOfWork(FakeStore()))
    frames = EventFrames()
    policy = SocketPolicy(heartbeat_s=60, buffer=5, send_timeout_s=0.2)
    stuck = StuckSocket(takes=1)
    healthy = [StuckSocket(takes=1000) for _ in range(19)]
    sessions = [
        asyncio.create_task(run(socket, cid, policy, feed, 0, frames=frames))
        for socket in (stuck, *healthy)
    ]
    async with fan_out.subscribe(cid, buffer=100) as probe:
        reader = aiter(probe)
        await until(lambda: len(fan_out._subscribers.get(cid, ())) == 21, "21 subscribers")
        for seq in range(1, 31):
            await fan_out.publish(cid, [event(cid, seq)])
            assert (await anext(reader)).seq == seq
            await until(partial(_all_sent, healthy, seq), "every event sent to the healthy sockets")
    await asyncio.wait_for(sessions[0], 2)
    assert stuck.closed is not None
    assert stuck.closed[0] == CLOSE_SLOW_CLIENT
    assert all(socket.closed is None for socket in healthy)
    assert all(socket.sent == healthy[0].sent for socket in healthy)
    assert frames.encoded == 30
    for session in sessions[1:]:
        session.cancel()
    await asyncio.wait(sessions)


def _all_sent(sockets: list[StuckSocket], count: int) -> bool:
    return all(len(socket.sent) == count for socket in sockets)


_busy_rechecks: list[bool] = []
"""Whether each re-check was a routine one (which may reuse a credential proved seconds ago)."""


class _StoreBusyStream(ConversationStream):
    """A stream whose re-checks find the database busy: none is answered (from the sixth on,
    once ``carry_on`` is set)."""

    carry_on: asyncio.Event

    async def recheck(self, *, routine: bool = False) -> None:
        _busy_rechecks.append(routine)
        if len(_busy_rechecks) > 5:
            await type(self).carry_on.wait()
        raise StreamAccessLostError(DependencyUnavailableError("Every database connection..."))


async def test_rechecks_that_find_a_store_busy_keep_the_socket_until_too_many_in_a_row() -> None:
    cid = ConversationId(new_id())
    fan_out = InProcessEventFanOut()
    feed = ConversationFeed(fan_out, FakeUnitsOfWork(FakeStore()))
    socket = StuckSocket(takes=1000)
    _busy_rechecks.clear()
    _StoreBusyStream.carry_on = asyncio.Event()
    policy = SocketPolicy(heartbeat_s=0.01, buffer=100, send_timeout_s=1, recheck_misses=40)
    running = asyncio.create_task(run(socket, cid, policy, feed, 0, stream_type=_StoreBusyStream))
    await until(lambda: len(_busy_rechecks) == 6, "six re-checks")  # five failed, the sixth waits
    await until(lambda: len(fan_out._subscribers.get(cid, ())) == 1, "the socket subscribed")
    await fan_out.publish(cid, [event(cid, 1)])
    await until(lambda: any('"seq":1' in frame for frame in socket.sent), "the first event sent")
    open_meanwhile = socket.closed is None
    _StoreBusyStream.carry_on.set()
    await asyncio.wait_for(running, 5)
    assert open_meanwhile
    assert _busy_rechecks == [True] * 40  # heartbeats: routine
    assert socket.closed is not None
    assert socket.closed[0] == CLOSE_TRY_AGAIN
