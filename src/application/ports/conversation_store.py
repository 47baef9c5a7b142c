from abc import abstractmethod
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from application.ports.conversation_repository import ConversationRepository
from application.ports.event_callback_store import EventCallbackStore
from application.ports.event_store import EventStore
from application.ports.unit_of_work import UnitOfWork

__all__ = ("ConversationStore", "ConversationTransaction")


@dataclass(frozen=True, slots=True)
class ConversationTransaction:
    """One transaction over conversations, their events and their callbacks."""

    conversations: ConversationRepository
    events: EventStore
    callbacks: EventCallbackStore
    uow: UnitOfWork


class ConversationStore(Protocol):
    """Opens transactions outside any request: for the work a server does on its own (the
    event ingest). Work not committed when the block ends is dropped."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[ConversationTransaction]: ...
