from dataclasses import dataclass

from application.members._shared import AccessChange
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


class ChangeMemberRole(AccessChange):
    """Move a member between ``member`` and ``admin``. Only the owner may; ownership itself
    moves only by transfer."""

    async def execute(self, request: ChangeMemberRoleRequest) -> None:
        view = await self._callers_view(request.actor, request.org_id)
        target = await self._orgs.get_for_member(request.org_id, request.user_id)
        if target is None:
            raise MemberNotFoundError
        check_can_change_role(view.organization, view.role, target.role, request.role)
        if target.role is request.role:
            return
        await self._orgs.set_role(request.org_id, request.user_id, request.role)
        await self._commit_with_audit(
            request.actor,
            request.org_id,
            AuditAction.ROLE_CHANGED,
            request.user_id,
            {"from": target.role.value, "to": request.role.value},
        )
        await self._announce(request.org_id, request.user_id)
