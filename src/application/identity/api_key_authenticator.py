from datetime import datetime
from functools import partial

from application.identity.authenticator import Authenticator
from application.identity.principal_cache import PrincipalCache
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitsOfWork
from domain.identity.api_keys import ApiKeyToken, secret_hash
from domain.identity.principals import AuthMethod, Credentials, Principal

__all__ = ("ApiKeyAuthenticator",)


class ApiKeyAuthenticator(Authenticator):
    """``Authorization: Bearer mst_...``: a live key acts as its owner, inside its organization,
    for as long as the owner belongs to it.

    It reads and writes in a unit of work of its own, never the request's: the key's last use
    is recorded at most once a minute and committed there. What a key proved is reused from
    the ``PrincipalCache`` for a few seconds, never past the key's expiry or its next recorded
    use.
    """

    def __init__(self, units: UnitsOfWork, clock: Clock, cache: PrincipalCache) -> None:
        self._units = units
        self._clock = clock
        self._cache = cache

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        token = ApiKeyToken.parse(credentials.bearer or "")
        if token is None:
            return None
        cache_key = f"api-key:{token.lookup}:{secret_hash(token.secret)}"
        if credentials.reuse_recent:
            return await self._cache.recall(cache_key, partial(self._read, token, cache_key))
        return await self._read(token, cache_key)

    async def _read(self, token: ApiKeyToken, cache_key: str) -> Principal | None:
        ticket = self._cache.ticket()
        async with self._units.begin() as uow:
            key = await uow.api_keys.get_by_lookup(token.lookup)
            now = self._clock.now()
            if key is None or not key.matches(token) or not key.is_usable(now):
                return None
            user = await uow.users.get(key.user_id)
            if user is None or await uow.orgs.get_for_member(key.org_id, user.id_) is None:
                return None
            if key.needs_touch(now):
                key = key.touched(now)
                await uow.api_keys.save(key)
                await uow.commit()
        principal = Principal(
            user=user,
            method=AuthMethod.API_KEY,
            scopes=key.scopes,
            credential_id=key.id_,
            bound_org_id=key.org_id,
        )
        until = key.proof_valid_until() or datetime.max.replace(tzinfo=now.tzinfo)
        self._cache.put(cache_key, principal, until=until, ticket=ticket)
        return principal
