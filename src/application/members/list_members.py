from dataclasses import dataclass

from application.members._shared import callers_view
from application.ports.org_repository import OrgMember
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("ListMembers", "ListMembersRequest", "ListMembersResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMembersRequest:
    actor: Principal
    org_id: OrgId


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMembersResult:
    members: list[OrgMember]


class ListMembers:
    """The members of an organization with their roles. Any member may read it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListMembersRequest) -> ListMembersResult:
        await callers_view(self._uow.orgs, request.actor, request.org_id)
        return ListMembersResult(members=await self._uow.orgs.list_members(request.org_id))
