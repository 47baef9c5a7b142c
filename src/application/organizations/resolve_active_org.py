from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization, OrgRepository
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError

__all__ = ("ResolveActiveOrg", "ResolveActiveOrgRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveActiveOrgRequest:
    actor: Principal
    requested: OrgId | None = None


class ResolveActiveOrg:
    """The organization a request acts in, with the caller's role there.

    An API key acts only in the organization it was made in. Other callers act in the one they
    name (``X-Org-Id``) if they belong to it, else in their personal organization. Naming an
    organization the caller does not belong to is reported as not found.
    """

    def __init__(self, orgs: OrgRepository) -> None:
        self._orgs = orgs

    async def execute(self, request: ResolveActiveOrgRequest) -> MemberOrganization:
        user_id = request.actor.user.id_
        bound = request.actor.bound_org_id
        if bound is not None and request.requested not in (None, bound):
            raise OrgNotFoundError
        wanted = bound or request.requested
        found = (
            await self._orgs.get_personal(user_id)
            if wanted is None
            else await self._orgs.get_for_member(wanted, user_id)
        )
        if found is None:
            raise OrgNotFoundError
        return found
