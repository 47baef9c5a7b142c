from dataclasses import dataclass

from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork
from domain.identity.api_keys import ApiKey
from domain.identity.principals import Principal

__all__ = ("ListApiKeys", "ListApiKeysRequest", "ListApiKeysResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListApiKeysRequest:
    actor: Principal
    org: MemberOrganization


@dataclass(frozen=True, slots=True, kw_only=True)
class ListApiKeysResult:
    keys: list[ApiKey]


class ListApiKeys:
    """The caller's API keys in the active organization, newest first; never their secrets."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ListApiKeysRequest) -> ListApiKeysResult:
        user_id, org_id = request.actor.user.id_, request.org.organization.id_
        return ListApiKeysResult(keys=await self._uow.api_keys.list_for_user(user_id, org_id))
