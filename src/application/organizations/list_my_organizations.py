from application.ports.authenticator import Principal
from domain.ports.org_repository import MemberOrganization, OrgRepository

__all__ = ("ListMyOrganizations",)


class ListMyOrganizations:
    """Every organization the caller belongs to, with the caller's role in each."""

    def __init__(self, orgs: OrgRepository) -> None:
        self._orgs = orgs

    async def execute(self, actor: Principal) -> list[MemberOrganization]:
        return await self._orgs.list_for_member(actor.user.id_)
