from application.identity.principal_cache import PrincipalCache
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError

__all__ = ("ActiveOrgResolver",)


class ActiveOrgResolver:
    """The organization a request acts in, with the caller's role there; it reads within the
    caller's unit of work and writes nothing.

    An API key acts only in the organization it was made in. Other callers act in the one they
    name (``X-Org-Id``) if they belong to it, else in their personal organization. Naming an
    organization the caller does not belong to is reported as not found.

    With ``reuse_recent`` (a request that only reads) what was found in the last few seconds
    is reused from the ``PrincipalCache``, which drops it when the membership ends or changes;
    every other call reads it again.
    """

    def __init__(self, uow: UnitOfWork, cache: PrincipalCache) -> None:
        self._uow = uow
        self._cache = cache

    async def resolve(
        self, actor: Principal, requested: OrgId | None = None, *, reuse_recent: bool = False
    ) -> MemberOrganization:
        user_id = actor.user.id_
        bound = actor.bound_org_id
        if bound is not None and requested not in (None, bound):
            raise OrgNotFoundError
        wanted = bound or requested
        if reuse_recent and (cached := self._cache.get_org(user_id, wanted)) is not None:
            return cached
        ticket = self._cache.ticket()
        found = (
            await self._uow.orgs.get_personal(user_id)
            if wanted is None
            else await self._uow.orgs.get_for_member(wanted, user_id)
        )
        if found is None:
            raise OrgNotFoundError
        self._cache.put_org(user_id, wanted, found, ticket=ticket)
        return found
