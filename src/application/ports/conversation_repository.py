from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol

from domain.billing.holds import BillingHold
from domain.conversations.entities import (
    Conversation,
    ConversationStatus,
    ConversationTitle,
    Tenant,
)
from domain.conversations.value_objects import ConversationId
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.triggers import ConversationTrigger

__all__ = ("ConversationFilter", "ConversationPage", "ConversationRepository")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationFilter:
    """Every given criterion must hold: one of ``statuses``, exactly ``repository``,
    ``title_contains`` anywhere in the title, ignoring case, ``parent_id``, and one of
    ``triggers``."""

    statuses: frozenset[ConversationStatus] = frozenset()
    repository: str | None = None
    title_contains: str | None = None
    parent_id: ConversationId | None = None
    """Only the children of this conversation."""
    triggers: frozenset[ConversationTrigger] = frozenset()
    """Only those started from one of these."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationPage:
    items: list[Conversation]
    next_cursor: str | None
    """Opaque; hand it back for the next page. None on the last page."""


class ConversationRepository(Protocol):
    """Our conversations. Reads and changes a person makes are scoped by their ``Tenant``: a
    conversation of another member or organization is not found. Transactional."""

    @abstractmethod
    async def add(self, conversation: Conversation) -> None: ...

    @abstractmethod
    async def get(self, tenant: Tenant, conversation_id: ConversationId) -> Conversation | None: ...

    @abstractmethod
    async def get_for_owner(self, conversation_id: ConversationId) -> Conversation | None:
        """Unscoped, for the server's own work on a conversation (ingesting its events)."""

    @abstractmethod
    async def billing_held(self, org_id: OrgId, hold: BillingHold) -> list[Conversation]:
        """Unscoped within the organization, for the server's own work: its conversations
        billing holds paused for ``hold``."""

    @abstractmethod
    async def search(
        self,
        tenant: Tenant,
        criteria: ConversationFilter,
        *,
        cursor: str | None = None,
        limit: int = 20,
    ) -> ConversationPage:
        """Newest first. Raises ``InvalidValueError`` (field ``cursor``) for a cursor this
        repository did not hand out."""

    @abstractmethod
    async def save(self, conversation: Conversation) -> None:
        """Write status, usage, active seconds and ``updated_at``; not the title (``rename``
        owns it). A conversation deleted meanwhile stays deleted."""

    @abstractmethod
    async def rename(
        self, tenant: Tenant, conversation_id: ConversationId, title: ConversationTitle
    ) -> bool:
        """False when the tenant has no such conversation."""

    @abstractmethod
    async def delete(self, tenant: Tenant, conversation_id: ConversationId) -> bool:
        """Remove it with its events and callbacks (its children stay, with no parent); False
        when the tenant has none such."""

    @abstractmethod
    async def lock_admissions(self, org_id: OrgId) -> None:
        """Admit conversations in the organization one transaction at a time: wait while
        another transaction holds this lock, then hold it until this one ends. What
        ``holding_runtime`` reads after it cannot change under the caller before its commit,
        so a limit checked then stays kept by what it inserts. End the transaction soon after:
        no runtime call while it is held."""

    @abstractmethod
    async def holding_runtime(
        self, org_id: OrgId, user_id: UserId | None = None
    ) -> list[Conversation]:
        """The organization's (or one member's in it) conversations that count against the
        concurrency limits, least recently updated first."""

    @abstractmethod
    async def unfinished(self) -> list[ConversationId]:
        """Every conversation whose runtime may still send events: all but finished, failed
        and stopped ones; for a restarted server to follow again."""

    @abstractmethod
    async def count_unfinished(self) -> dict[ConversationStatus, int]:
        """How many conversations, of every tenant, are in each status but the ended ones;
        a status none is in is left out."""
