from dataclasses import dataclass

from application.conversations.ingest import ConversationIngest
from application.conversations.message_delivery import MessageDelivery
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Principal

__all__ = ("SendMessage", "SendMessageRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessageRequest:
    actor: Principal
    org: MemberOrganization
    conversation_id: ConversationId
    text: str | None
    images: tuple[str, ...] = ()


class SendMessage:
    """Send the agent a message; it works on it, running again if it had stopped, paused or
    finished (within the concurrency limits, as a new conversation would)."""

    def __init__(
        self, uow: UnitOfWork, delivery: MessageDelivery, ingest: ConversationIngest
    ) -> None:
        self._uow = uow
        self._delivery = delivery
        self._ingest = ingest

    async def execute(self, request: SendMessageRequest) -> None:
        prepared = await self._delivery.prepare(
            request.actor, request.org, request.conversation_id, request.text, request.images
        )
        await self._uow.commit()
        self._ingest.follow(request.conversation_id)
        await self._delivery.deliver(prepared)
