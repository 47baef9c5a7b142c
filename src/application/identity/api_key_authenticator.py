from application.identity.authenticator import Authenticator
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitsOfWork
from domain.identity.api_keys import ApiKeyToken
from domain.identity.principals import AuthMethod, Credentials, Principal

__all__ = ("ApiKeyAuthenticator",)


class ApiKeyAuthenticator(Authenticator):
    """``Authorization: Bearer mst_...``: a live key acts as its owner, inside its organization,
    for as long as the owner belongs to it.

    It reads and writes in a unit of work of its own, never the request's: the key's last use
    is recorded at most once a minute and committed there.
    """

    def __init__(self, units: UnitsOfWork, clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        token = ApiKeyToken.parse(credentials.bearer or "")
        if token is None:
            return None
        async with self._units.begin() as uow:
            key = await uow.api_keys.get_by_lookup(token.lookup)
            now = self._clock.now()
            if key is None or not key.matches(token) or not key.is_usable(now):
                return None
            user = await uow.users.get(key.user_id)
            if user is None or await uow.orgs.get_for_member(key.org_id, user.id_) is None:
                return None
            if key.needs_touch(now):
                await uow.api_keys.save(key.touched(now))
                await uow.commit()
        return Principal(
            user=user,
            method=AuthMethod.API_KEY,
            scopes=key.scopes,
            credential_id=key.id_,
            bound_org_id=key.org_id,
        )
