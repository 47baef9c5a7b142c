from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from adapters.memory.bounded_subscriber import BoundedSubscriber
from application.ports.event_fan_out import EventFanOut, Subscription
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId

__all__ = ("InProcessEventFanOut",)


class InProcessEventFanOut(EventFanOut):
    """Fan-out within one process: a set of bounded subscribers per conversation."""

    def __init__(self) -> None:
        self._subscribers: dict[ConversationId, set[BoundedSubscriber]] = {}

    def subscriber_count(self, conversation_id: ConversationId) -> int:
        """How many subscribe to the conversation now."""
        return len(self._subscribers.get(conversation_id, ()))

    async def publish(self, conversation_id: ConversationId, events: Sequence[StoredEvent]) -> None:
        for subscriber in tuple(self._subscribers.get(conversation_id, ())):
            subscriber.offer(events)

    def subscribe(
        self, conversation_id: ConversationId, *, buffer: int
    ) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe(conversation_id, buffer)

    @asynccontextmanager
    async def _subscribe(
        self, conversation_id: ConversationId, buffer: int
    ) -> AsyncIterator[Subscription]:
        subscriber = BoundedSubscriber(buffer)
        self._subscribers.setdefault(conversation_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            subscribers = self._subscribers.get(conversation_id, set())
            subscribers.discard(subscriber)
            if not subscribers:
                self._subscribers.pop(conversation_id, None)
