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
from domain.organizations.policy import check_can_transfer

__all__ = ("TransferOwnership", "TransferOwnershipRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferOwnershipRequest:
    actor: Principal
    org_id: OrgId
    new_owner: UserId


class TransferOwnership:
    """The owner hands the organization to another member and stays on as an admin. Both
    roles and the audit are committed together, then every server hears of both changes."""

    def __init__(self, uow: UnitOfWork, clock: Clock, revocations: AccessRevocations) -> None:
        self._uow = uow
        self._clock = clock
        self._revocations = revocations

    async def execute(self, request: TransferOwnershipRequest) -> None:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_transfer(view.organization, view.role)
        target = await self._uow.orgs.get_for_member(request.org_id, request.new_owner)
        if target is None:
            raise MemberNotFoundError
        previous = request.actor.user.id_
        if request.new_owner == previous:
            return
        await self._uow.orgs.set_role(request.org_id, previous, Role.ADMIN)
        await self._uow.orgs.set_role(request.org_id, request.new_owner, Role.OWNER)
        await self._uow.audit.append(
            member_event(
                request.actor,
                request.org_id,
                AuditAction.OWNERSHIP_TRANSFERRED,
                request.new_owner,
                {"previous_owner": str(previous)},
                now=self._clock.now(),
            )
        )
        await self._uow.commit()
        await self._revocations.publish(
            [
                MembershipChanged(previous, request.org_id),
                MembershipChanged(request.new_owner, request.org_id),
            ]
        )
