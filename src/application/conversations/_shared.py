from collections.abc import Sequence

from application.ports.conversation_repository import ConversationRepository
from application.ports.org_repository import MemberOrganization
from domain.conversations.entities import Conversation, Tenant
from domain.conversations.errors import ConversationNotFoundError
from domain.conversations.value_objects import ConversationId, ImagePart, MessagePart, TextPart
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("MAX_MESSAGE_CHARS", "message_parts", "owned", "tenant_of")

MAX_MESSAGE_CHARS = 100_000


def tenant_of(actor: Principal, org: MemberOrganization) -> Tenant:
    return Tenant(org.organization.id_, actor.user.id_)


async def owned(
    conversations: ConversationRepository, tenant: Tenant, conversation_id: ConversationId
) -> Conversation:
    """The tenant's conversation, or ``ConversationNotFoundError`` (another's included)."""
    found = await conversations.get(tenant, conversation_id)
    if found is None:
        raise ConversationNotFoundError
    return found


def message_parts(text: str | None, images: Sequence[str] = ()) -> list[MessagePart]:
    """A message's parts; empty when there is neither text nor image."""
    if text is not None and len(text) > MAX_MESSAGE_CHARS:
        raise InvalidValueError("A message is at most 100000 characters.", field="text")
    parts: list[MessagePart] = [TextPart(text=text)] if text and text.strip() else []
    try:
        parts += [ImagePart(url=url) for url in images]
    except InvalidValueError as refused:  # the part calls it url; the request, images
        raise InvalidValueError(refused.message, field="images") from None
    return parts
