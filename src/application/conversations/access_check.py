from dataclasses import dataclass

from application.conversations._shared import owned, tenant_of
from application.errors import MissingScopeError, NotAuthenticatedError
from application.identity.access_gates import AccessPolicy, check_gates
from application.identity.authenticator import Authenticator
from application.organizations.active_org import ActiveOrgResolver
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Credentials, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId

__all__ = ("ConversationAccess", "ConversationAccessCheck")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationAccess:
    actor: Principal
    org: MemberOrganization


class ConversationAccessCheck:
    """Whether credentials reach one conversation now, from scratch: they prove someone
    (``NotAuthenticatedError`` for a revoked key or an ended session), who passes the email and
    terms gates, whose credential has ``scope`` (``MissingScopeError``), who still belongs to
    the organization (``OrgNotFoundError``) and owns the conversation there
    (``ConversationNotFoundError``). It reads within the caller's unit of work.

    A conversation stream asks when it opens, before acting on each client message, and
    whenever access it relies on may have been revoked, so it never keeps rights its
    credential lost.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        gates: AccessPolicy,
        active_orgs: ActiveOrgResolver,
        uow: UnitOfWork,
    ) -> None:
        self._authenticator = authenticator
        self._gates = gates
        self._active_orgs = active_orgs
        self._uow = uow

    async def check(
        self,
        credentials: Credentials,
        requested_org: OrgId | None,
        conversation_id: ConversationId,
        scope: Scope,
    ) -> ConversationAccess:
        actor = await self._authenticator.authenticate(credentials)
        if actor is None:
            raise NotAuthenticatedError
        check_gates(actor, self._gates)
        if scope not in actor.scopes:
            raise MissingScopeError(f"This needs a credential with the scope {scope}.")
        org = await self._active_orgs.resolve(actor, requested_org)
        await owned(self._uow.conversations, tenant_of(actor, org), conversation_id)
        return ConversationAccess(actor=actor, org=org)
