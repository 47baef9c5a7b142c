from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.errors import MissingScopeError, NotAuthenticatedError
from application.identity.access_gates import AccessPolicy, check_gates
from application.identity.authenticator import Authenticator
from application.organizations.active_org import ActiveOrgResolver
from application.ports.conversation_repository import ConversationRepository
from application.ports.org_repository import MemberOrganization
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Credentials, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId

__all__ = ("CheckConversationAccess", "CheckConversationAccessRequest", "ConversationAccess")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckConversationAccessRequest:
    credentials: Credentials
    requested_org: OrgId | None
    conversation_id: ConversationId
    scope: Scope


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationAccess:
    actor: Principal
    org: MemberOrganization


class CheckConversationAccess:
    """Whether credentials reach one conversation now, from scratch: they prove someone
    (``NotAuthenticatedError`` for a revoked key or an ended session), who passes the email and
    terms gates, whose credential has ``scope`` (``MissingScopeError``), who still belongs to
    the organization (``OrgNotFoundError``) and owns the conversation there
    (``ConversationNotFoundError``).

    A websocket asks when it opens, before acting on each client frame, and whenever access
    it relies on may have been revoked, so it never keeps rights its credential lost.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        gates: AccessPolicy,
        active_orgs: ActiveOrgResolver,
        conversations: ConversationRepository,
    ) -> None:
        self._authenticator = authenticator
        self._gates = gates
        self._active_orgs = active_orgs
        self._conversations = conversations

    async def execute(self, request: CheckConversationAccessRequest) -> ConversationAccess:
        actor = await self._authenticator.authenticate(request.credentials)
        if actor is None:
            raise NotAuthenticatedError
        check_gates(actor, self._gates)
        if request.scope not in actor.scopes:
            raise MissingScopeError(f"This needs a credential with the scope {request.scope}.")
        org = await self._active_orgs.resolve(actor, request.requested_org)
        await owned(self._conversations, tenant_of(actor, org), request.conversation_id)
        return ConversationAccess(actor=actor, org=org)
