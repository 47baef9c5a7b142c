from application.ports.org_repository import MemberOrganization, OrgRepository
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError

__all__ = ("callers_view",)


async def callers_view(orgs: OrgRepository, actor: Principal, org_id: OrgId) -> MemberOrganization:
    """The org as the caller sees it; another tenant's org is reported as not found, and so is
    any org but its own to an API key."""
    found = await orgs.get_for_member(org_id, actor.user.id_)
    if found is None or actor.bound_org_id not in (None, org_id):
        raise OrgNotFoundError
    return found
