from dataclasses import dataclass

from application.conversations._shared import tenant_of
from application.ports.conversation_repository import (
    ConversationFilter,
    ConversationPage,
    ConversationRepository,
)
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import ConversationStatus
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("SearchConversations", "SearchConversationsRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchConversationsRequest:
    actor: Principal
    org: MemberOrganization
    statuses: frozenset[ConversationStatus] = frozenset()
    repository: str | None = None
    title: str | None = None
    cursor: str | None = None
    limit: int = 20


class SearchConversations:
    """The caller's conversations in the active organization, newest first, filtered by
    status, repository and text in the title; pages of 1 to 100 follow an opaque cursor."""

    def __init__(self, conversations: ConversationRepository) -> None:
        self._conversations = conversations

    async def execute(self, request: SearchConversationsRequest) -> ConversationPage:
        if not 1 <= request.limit <= 100:
            raise InvalidValueError("limit is 1 to 100.", field="limit")
        return await self._conversations.search(
            tenant_of(request.actor, request.org),
            ConversationFilter(
                statuses=request.statuses,
                repository=request.repository or None,
                title_contains=request.title or None,
            ),
            cursor=request.cursor or None,
            limit=request.limit,
        )
