from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from application.errors import ApplicationError
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId

__all__ = ("EventFanOut", "SubscriberTooSlowError", "Subscription")


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


class EventFanOut(Protocol):
    """Live fan-out of a conversation's stored events to whoever watches it, on this server
    or, with a clustered adapter, on any other."""

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
