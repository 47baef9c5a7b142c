from abc import abstractmethod
from typing import Protocol

from domain.conversations.entities import EventCallback
from domain.conversations.value_objects import ConversationId

__all__ = ("EventCallbackStore",)


class EventCallbackStore(Protocol):
    """The callbacks each conversation runs on its state changes. Transactional."""

    @abstractmethod
    async def add(self, callback: EventCallback) -> None: ...

    @abstractmethod
    async def active_for(self, conversation_id: ConversationId) -> list[EventCallback]:
        """Its active callbacks, in the order they were added."""

    @abstractmethod
    async def save(self, callback: EventCallback) -> None:
        """Write its status and state."""
