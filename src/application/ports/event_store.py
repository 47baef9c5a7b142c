from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId, RuntimeEvent

__all__ = ("EventStore",)


class EventStore(Protocol):
    """Every runtime event of a conversation, numbered 1, 2, 3... in the order stored, with
    the notes this server adds itself (source ``SERVER_SOURCE``: a start's phases).
    Transactional: the unit of work commits."""

    @abstractmethod
    async def append(
        self, conversation_id: ConversationId, events: Sequence[RuntimeEvent], *, fence: int | None
    ) -> list[StoredEvent]:
        """Store the events not stored yet (by runtime event id, so a re-delivered event is
        kept once), each numbered one after the last; answers the ones stored now.

        ``fence`` is the caller's ownership token: one older than a token an append of this
        conversation already carried raises ``StaleFenceError`` and stores nothing. None is
        for this server's own notes, which no owner of the runtime's stream writes: stored
        whatever the fence, which they leave as it was. Appends racing each other get dense,
        unique numbers."""

    @abstractmethod
    async def list_after(
        self, conversation_id: ConversationId, after: int = 0, limit: int = 100
    ) -> list[StoredEvent]:
        """Events numbered above ``after``, in order, at most ``limit``."""

    @abstractmethod
    async def last(self, conversation_id: ConversationId) -> StoredEvent | None:
        """The last event stored from the runtime (where its stream goes on from): this
        server's own notes are passed over."""
