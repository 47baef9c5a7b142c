from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal

__all__ = ("ListMyOrganizations", "ListMyOrganizationsRequest", "ListMyOrganizationsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMyOrganizationsRequest:
    actor: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMyOrganizationsResult:
    orgs: list[MemberOrganization]


class ListMyOrganizations:
    """Every organization the caller belongs to, with the caller's role in each.

    An API key sees only the organization it was made in.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListMyOrganizationsRequest) -> ListMyOrganizationsResult:
        actor = request.actor
        found = await self._uow.orgs.list_for_member(actor.user.id_)
        if actor.bound_org_id is not None:
            found = [view for view in found if view.organization.id_ == actor.bound_org_id]
        return ListMyOrganizationsResult(orgs=found)
