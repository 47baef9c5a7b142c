from application.ports.api_key_repository import ApiKeyRepository
from application.ports.org_repository import MemberOrganization
from domain.identity.api_keys import ApiKey
from domain.identity.principals import Principal

__all__ = ("ListApiKeys",)


class ListApiKeys:
    """The caller's API keys in the active organization, newest first; never their secrets."""

    def __init__(self, keys: ApiKeyRepository) -> None:
        self._keys = keys

    async def execute(self, actor: Principal, org: MemberOrganization) -> list[ApiKey]:
        return await self._keys.list_for_user(actor.user.id_, org.organization.id_)
