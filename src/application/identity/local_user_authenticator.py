from dataclasses import dataclass

from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.ports.authenticator import Authenticator, AuthMethod, Credentials, Principal
from domain.identity.entities import LOCAL_USER_SUBJECT
from domain.ports.user_repository import UserRepository

__all__ = ("LocalAccessPolicy", "LocalUserAuthenticator")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalAccessPolicy:
    require_api_key: bool = False


class LocalUserAuthenticator(Authenticator):
    """Embedded binding: with no credential, the request acts as the single local user.

    A request that sends an ``Authorization`` header is held to it: an API key acts with
    its own scopes, and anything else is refused rather than treated as the local user. With
    ``require_api_key`` a request without a key is refused too.
    """

    def __init__(
        self, users: UserRepository, api_keys: ApiKeyAuthenticator, policy: LocalAccessPolicy
    ) -> None:
        self._users = users
        self._api_keys = api_keys
        self._policy = policy

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        if credentials.authorization is not None or self._policy.require_api_key:
            return await self._api_keys.authenticate(credentials)
        user = await self._users.get_by_subject(LOCAL_USER_SUBJECT)
        return None if user is None else Principal(user=user, method=AuthMethod.LOCAL)
