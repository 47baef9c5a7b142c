from application.ports.org_repository import MemberOrganization, OrgRepository
from domain.identity.principals import Principal

__all__ = ("ListMyOrganizations",)


class ListMyOrganizations:
    """Every organization the caller belongs to, with the caller's role in each.

    An API key sees only the organization it was made in.
    """

    def __init__(self, orgs: OrgRepository) -> None:
        self._orgs = orgs

    async def execute(self, actor: Principal) -> list[MemberOrganization]:
        found = await self._orgs.list_for_member(actor.user.id_)
        if actor.bound_org_id is None:
            return found
        return [view for view in found if view.organization.id_ == actor.bound_org_id]
