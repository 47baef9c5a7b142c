from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.ports.conversation_repository import ConversationRepository
from application.ports.event_store import EventStore
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import MAX_SEQ, StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("EventPage", "ListEvents")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventPage:
    items: list[StoredEvent]
    next_after: int | None
    """Pass as ``after`` for the next page; None when this page reached the end."""


class ListEvents:
    """A conversation's stored events numbered above ``after``, in order, 1 to 1000 a page."""

    def __init__(self, conversations: ConversationRepository, events: EventStore) -> None:
        self._conversations = conversations
        self._events = events

    async def execute(
        self,
        actor: Principal,
        org: MemberOrganization,
        conversation_id: ConversationId,
        *,
        after: int = 0,
        limit: int = 100,
    ) -> EventPage:
        if not 0 <= after <= MAX_SEQ:
            raise InvalidValueError(f"after is 0 to {MAX_SEQ}.", field="after")
        if not 1 <= limit <= 1000:
            raise InvalidValueError("limit is 1 to 1000.", field="limit")
        await owned(self._conversations, tenant_of(actor, org), conversation_id)
        found = await self._events.list_after(conversation_id, after, limit + 1)
        items = found[:limit]
        return EventPage(
            items=items, next_after=items[-1].seq if len(found) > limit and items else None
        )
