from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import MAX_SEQ, StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("ListEvents", "ListEventsRequest", "ListEventsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListEventsRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId
    after: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ListEventsResult:
    items: list[StoredEvent]
    next_after: int | None
    """Pass as ``after`` for the next page; None when this page reached the end."""


class ListEvents:
    """A conversation's stored events numbered above ``after``, in order, 1 to 1000 a page."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListEventsRequest) -> ListEventsResult:
        if not 0 <= request.after <= MAX_SEQ:
            raise InvalidValueError(f"after is 0 to {MAX_SEQ}.", field="after")
        if not 1 <= request.limit <= 1000:
            raise InvalidValueError("limit is 1 to 1000.", field="limit")
        tenant = tenant_of(request.actor, request.org)
        await owned(self._uow.conversations, tenant, request.conversation_id)
        found = await self._uow.events.list_after(
            request.conversation_id, request.after, request.limit + 1
        )
        items = found[: request.limit]
        return ListEventsResult(
            items=items,
            next_after=items[-1].seq if len(found) > request.limit and items else None,
        )
