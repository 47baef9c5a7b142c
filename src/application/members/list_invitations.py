from dataclasses import dataclass

from application.members._shared import callers_view
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.invitations import Invitation
from domain.organizations.policy import check_can_manage_invitations

__all__ = ("ListInvitations", "ListInvitationsRequest", "ListInvitationsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInvitationsRequest:
    actor: Principal
    org_id: OrgId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInvitationsResult:
    invitations: list[Invitation]


class ListInvitations:
    """The invitations of an organization that are neither accepted nor revoked, newest
    first, expired ones included; for its owner and admins only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListInvitationsRequest) -> ListInvitationsResult:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_manage_invitations(view.organization, view.role)
        return ListInvitationsResult(
            invitations=await self._uow.invitations.list_open(request.org_id)
        )
