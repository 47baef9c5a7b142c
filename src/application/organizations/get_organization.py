from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError

__all__ = ("GetOrganization", "GetOrganizationRequest", "GetOrganizationResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrganizationRequest:
    actor: Principal
    org_id: OrgId


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrganizationResult:
    org: MemberOrganization


class GetOrganization:
    """One organization the caller belongs to.

    An organization the caller is not a member of is reported exactly like one that does not
    exist, so ids of other tenants reveal nothing. An API key sees only its own organization.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: GetOrganizationRequest) -> GetOrganizationResult:
        bound = request.actor.bound_org_id
        found = await self._uow.orgs.get_for_member(request.org_id, request.actor.user.id_)
        if found is None or bound not in (None, request.org_id):
            raise OrgNotFoundError
        return GetOrganizationResult(org=found)
