import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.authenticator import Authenticator
from application.ports.unit_of_work import UnitsOfWork
from domain.identity.entities import LOCAL_USER_SUBJECT, User
from domain.identity.principals import AuthMethod, Credentials, Principal

__all__ = ("LocalAccessPolicy", "LocalUserAuthenticator", "LocalUserCache")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalAccessPolicy:
    require_api_key: bool = False


class LocalUserCache:
    """The local user, remembered for a few seconds: it is read on every request of the
    embedded binding and changes only when the process provisions it.

    When it expires, one request reads it again while the others wait for that read, so a
    burst of requests costs one query, not one each."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self._ttl_s = ttl_s
        self._user: User | None = None
        self._until = 0.0
        self._loading: asyncio.Lock | None = None

    def get(self) -> User | None:
        return self._user if time.monotonic() < self._until else None

    def put(self, user: User) -> None:
        self._user, self._until = user, time.monotonic() + self._ttl_s

    async def get_or_load(self, load: Callable[[], Awaitable[User | None]]) -> User | None:
        user = self.get()
        if user is not None:
            return user
        if self._loading is None:
            self._loading = asyncio.Lock()
        async with self._loading:
            user = self.get()
            if user is None:
                user = await load()
                if user is not None:
                    self.put(user)
            return user


class LocalUserAuthenticator(Authenticator):
    """Embedded binding: with no credential, the request acts as the single local user.

    A request that sends an ``Authorization`` header is held to it: an API key acts with
    its own scopes, and anything else is refused rather than treated as the local user. With
    ``require_api_key`` a request without a key is refused too. The local user is read in a
    unit of work of its own, never the request's.
    """

    def __init__(
        self,
        units: UnitsOfWork,
        api_keys: ApiKeyAuthenticator,
        policy: LocalAccessPolicy,
        cache: LocalUserCache,
    ) -> None:
        self._units = units
        self._api_keys = api_keys
        self._policy = policy
        self._cache = cache

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        if credentials.authorization is not None or self._policy.require_api_key:
            return await self._api_keys.authenticate(credentials)
        user = await self._cache.get_or_load(self._load)
        if user is None:
            return None
        return Principal(user=user, method=AuthMethod.LOCAL)

    async def _load(self) -> User | None:
        async with self._units.begin() as uow:
            return await uow.users.get_by_subject(LOCAL_USER_SUBJECT)
