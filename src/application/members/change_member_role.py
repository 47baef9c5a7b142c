from dataclasses import dataclass

from application.members._shared import callers_view, member_event
from application.ports.access_revocations import AccessRevocations, MembershipChanged
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import MemberNotFoundError
from domain.organizations.policy import check_can_change_role

__all__ = ("ChangeMemberRole", "ChangeMemberRoleRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeMemberRoleRequest:
    actor: Principal
    org_id: OrgId
    user_id: UserId
    role: Role


class ChangeMemberRole:
    """Move a member between ``member`` and ``admin``. Only the owner may; ownership itself
    moves only by transfer. The change and its audit are committed together, then every
    server hears whose membership changed."""

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: AccessRevocations) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations

    async def execute(self, request: ChangeMemberRoleRequest) -> None:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        target = await self._uow.orgs.get_for_member(request.org_id, request.user_id)
        if target is None:
            raise MemberNotFoundError
        check_can_change_role(view.organization, view.role, target.role, request.role)
        if target.role is request.role:
            return
        await self._uow.orgs.set_role(request.org_id, request.user_id, request.role)
        await self._uow.audit.append(
            member_event(
                request.actor,
                request.org_id,
                AuditAction.ROLE_CHANGED,
                request.user_id,
                {"from": target.role.value, "to": request.role.value},
                now=self._clock.now(),
            )
        )
        await self._uow.commit()
        await self._revocations.publish([MembershipChanged(request.user_id, request.org_id)])
