from application.identity.authenticator import Authenticator
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.org_repository import OrgRepository
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserRepository
from domain.identity.api_keys import ApiKeyToken
from domain.identity.principals import AuthMethod, Credentials, Principal

__all__ = ("ApiKeyAuthenticator",)


class ApiKeyAuthenticator(Authenticator):
    """``Authorization: Bearer mst_...``: a live key acts as its owner, inside its organization,
    for as long as the owner belongs to it.

    The key's last use is recorded at most once a minute, in a transaction of its own.
    """

    def __init__(
        self,
        keys: ApiKeyRepository,
        users: UserRepository,
        orgs: OrgRepository,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._keys = keys
        self._users = users
        self._orgs = orgs
        self._uow = uow
        self._clock = clock

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        token = ApiKeyToken.parse(credentials.bearer or "")
        if token is None:
            return None
        key = await self._keys.get_by_lookup(token.lookup)
        now = self._clock.now()
        if key is None or not key.matches(token) or not key.is_usable(now):
            return None
        user = await self._users.get(key.user_id)
        if user is None or await self._orgs.get_for_member(key.org_id, user.id_) is None:
            return None
        if key.needs_touch(now):
            await self._keys.save(key.touched(now))
            await self._uow.commit()
        return Principal(
            user=user,
            method=AuthMethod.API_KEY,
            scopes=key.scopes,
            credential_id=key.id_,
            bound_org_id=key.org_id,
        )
