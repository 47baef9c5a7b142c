from dataclasses import dataclass

from application.conversations._shared import tenant_of
from application.ports.conversation_repository import ConversationFilter
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation, ConversationStatus
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal
from domain.resolver.triggers import ConversationTrigger
from domain.shared.errors import InvalidValueError

__all__ = ("SearchConversations", "SearchConversationsRequest", "SearchConversationsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchConversationsRequest:
    actor: Principal
    org: MemberOrganization
    statuses: frozenset[ConversationStatus] = frozenset()
    repository: str | None = None
    title: str | None = None
    parent_id: ConversationId | None = None
    triggers: frozenset[ConversationTrigger] = frozenset()
    cursor: str | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchConversationsResult:
    items: list[Conversation]
    next_cursor: str | None
    """Hand it back for the next page; None on the last page."""


class SearchConversations:
    """The caller's conversations in the active organization, newest first, filtered by
    status, repository, text in the title, parent (a conversation's children) and where they
    were started from (the web, the API, a GitHub issue...); pages of 1
    to 100 follow an opaque cursor."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: SearchConversationsRequest) -> SearchConversationsResult:
        if not 1 <= request.limit <= 100:
            raise InvalidValueError("limit is 1 to 100.", field="limit")
        page = await self._uow.conversations.search(
            tenant_of(request.actor, request.org),
            ConversationFilter(
                statuses=request.statuses,
                repository=request.repository or None,
                title_contains=request.title or None,
                parent_id=request.parent_id,
                triggers=request.triggers,
            ),
            cursor=request.cursor or None,
            limit=request.limit,
        )
        return SearchConversationsResult(items=page.items, next_cursor=page.next_cursor)
