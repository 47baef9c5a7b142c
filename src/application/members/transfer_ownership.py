from dataclasses import dataclass

from application.members._shared import AccessChange
from domain.audit.entities import AuditAction
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import MemberNotFoundError
from domain.organizations.policy import check_can_transfer

__all__ = ("TransferOwnership", "TransferOwnershipRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferOwnershipRequest:
    actor: Principal
    org_id: OrgId
    new_owner: UserId


class TransferOwnership(AccessChange):
    """The owner hands the organization to another member and stays on as an admin."""

    async def execute(self, request: TransferOwnershipRequest) -> None:
        view = await self._callers_view(request.actor, request.org_id)
        check_can_transfer(view.organization, view.role)
        target = await self._orgs.get_for_member(request.org_id, request.new_owner)
        if target is None:
            raise MemberNotFoundError
        if request.new_owner == request.actor.user.id_:
            return
        await self._orgs.set_role(request.org_id, request.actor.user.id_, Role.ADMIN)
        await self._orgs.set_role(request.org_id, request.new_owner, Role.OWNER)
        await self._commit_with_audit(
            request.actor,
            request.org_id,
            AuditAction.OWNERSHIP_TRANSFERRED,
            request.new_owner,
            {"previous_owner": str(request.actor.user.id_)},
        )
        await self._announce(request.org_id, request.actor.user.id_, request.new_owner)
