from abc import abstractmethod
from typing import Protocol

from domain.conversations.value_objects import ConversationId
from domain.git.providers import ProviderKind
from domain.resolver.entities import ResolverThread
from domain.resolver.triggers import ThreadRef

__all__ = ("ResolverThreadStore",)


class ResolverThreadStore(Protocol):
    """The issues and pull requests the agent answers, one conversation each.
    Transactional: the unit of work commits."""

    @abstractmethod
    async def add(self, thread: ResolverThread) -> bool:
        """Keep it; False, keeping nothing, when its issue has a thread already."""

    @abstractmethod
    async def save(self, thread: ResolverThread) -> None:
        """Write back what changed of a kept thread (summaries posted, pull requests)."""

    @abstractmethod
    async def get(self, ref: ThreadRef) -> ResolverThread | None: ...

    @abstractmethod
    async def list_for_repository(
        self, provider: ProviderKind, repository: str
    ) -> list[ResolverThread]:
        """The threads of one repository (its name in any case), oldest first."""

    @abstractmethod
    async def for_conversation(self, conversation_id: ConversationId) -> ResolverThread | None:
        """The thread a conversation answers, if it answers one."""

    @abstractmethod
    async def delete(self, ref: ThreadRef) -> bool:
        """Forget it (its conversation was deleted: the next trigger starts another)."""
