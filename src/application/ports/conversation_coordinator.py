from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from application.errors import ApplicationError
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId

__all__ = (
    "ConversationCoordinator",
    "Lease",
    "LeaseLostError",
    "SubscriberTooSlowError",
    "Subscription",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """Ownership of one conversation's runtime event stream. ``fence`` grows with every new
    owner; the event store refuses appends carrying an older one."""

    conversation_id: ConversationId
    fence: int
    owner: str


class LeaseLostError(ApplicationError):
    code = "lease-lost"
    default_message = "This server no longer owns the conversation's event stream."


class SubscriberTooSlowError(ApplicationError):
    """A live subscriber fell further behind than its buffer holds; it was cut off so that
    nobody else waits for it."""

    code = "subscriber-too-slow"

    def __init__(self, buffered: int) -> None:
        super().__init__(f"The client fell {buffered} events behind and was disconnected.")
        self.buffered = buffered


class Subscription(Protocol):
    """Events published for one conversation after it began, in order, until closed.
    Iterating raises ``SubscriberTooSlowError`` once the buffer overflowed."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[StoredEvent]: ...


class ConversationCoordinator(Protocol):
    """Who owns each conversation's event ingest, and live fan-out of the events stored.

    Exactly one owner at a time reads a conversation's runtime events: ``acquire`` answers a
    lease, or None while another owner holds one. A clustered adapter keeps leases with a time
    to live that ``ensure_current`` renews, and takes over those whose owner died, handing out
    a greater fence; the event store's fence check then stops a stale owner's appends.
    """

    @abstractmethod
    async def acquire(self, conversation_id: ConversationId) -> Lease | None: ...

    @abstractmethod
    async def ensure_current(self, lease: Lease) -> None:
        """Renew the lease; raises ``LeaseLostError`` when it is no longer this owner's."""

    @abstractmethod
    async def release(self, lease: Lease) -> None:
        """Give the stream up (a no-op for a lease already lost)."""

    @abstractmethod
    async def publish(self, conversation_id: ConversationId, events: Sequence[StoredEvent]) -> None:
        """Hand stored events to every live subscriber of the conversation; never waits for
        a slow one."""

    @abstractmethod
    def subscribe(
        self, conversation_id: ConversationId, *, buffer: int
    ) -> AbstractAsyncContextManager[Subscription]:
        """Live events from now on; at most ``buffer`` of them wait unread before the
        subscription is cut off."""
