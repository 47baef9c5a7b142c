from dataclasses import dataclass

from application.members._shared import MembershipChange
from application.ports.org_repository import OrgMember
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("ListMembers", "ListMembersRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMembersRequest:
    actor: Principal
    org_id: OrgId


class ListMembers(MembershipChange):
    """The members of an organization with their roles. Any member may read it."""

    async def execute(self, request: ListMembersRequest) -> list[OrgMember]:
        await self._callers_view(request.actor, request.org_id)
        return await self._orgs.list_members(request.org_id)
