from dataclasses import dataclass

from application.errors import MissingScopeError
from application.members._shared import callers_view, member_event
from application.ports.access_revocations import AccessRevocations, MembershipChanged
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from domain.organizations.errors import MemberNotFoundError
from domain.organizations.policy import check_can_remove

__all__ = ("RemoveMember", "RemoveMemberRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveMemberRequest:
    actor: Principal
    org_id: OrgId
    user_id: UserId


class RemoveMember:
    """Remove a member, or leave when the member is the caller.

    Admins remove members, the owner removes admins too; the owner cannot leave or be removed
    before transferring ownership. An API key removes someone else only with ``org:admin``;
    any key may leave. The removed member's API keys in the organization are
    revoked in the same transaction, so no access survives the removal: the member's open
    websockets in the organization close on every server.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: AccessRevocations) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations

    async def execute(self, request: RemoveMemberRequest) -> None:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        target = await self._uow.orgs.get_for_member(request.org_id, request.user_id)
        if target is None:
            raise MemberNotFoundError
        is_self = request.user_id == request.actor.user.id_
        if not is_self and Scope.ORG_ADMIN not in request.actor.scopes:
            raise MissingScopeError(f"Removing someone else needs the scope {Scope.ORG_ADMIN}.")
        check_can_remove(view.organization, view.role, target.role, is_self=is_self)
        await self._uow.orgs.remove_member(request.org_id, request.user_id)
        revoked = await self._uow.api_keys.revoke_all(
            request.user_id, request.org_id, self._clock.now()
        )
        await self._uow.audit.append(
            member_event(
                request.actor,
                request.org_id,
                AuditAction.MEMBER_LEFT if is_self else AuditAction.MEMBER_REMOVED,
                request.user_id,
                {"role": target.role.value, "api_keys_revoked": str(revoked)},
                now=self._clock.now(),
            )
        )
        await self._uow.commit()
        await self._revocations.publish([MembershipChanged(request.user_id, request.org_id)])
