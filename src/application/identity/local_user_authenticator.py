from application.ports.authenticator import Authenticator, Credentials, Principal
from domain.identity.entities import LOCAL_USER_SUBJECT
from domain.ports.user_repository import UserRepository

__all__ = ("LocalUserAuthenticator",)


class LocalUserAuthenticator(Authenticator):
    """Embedded binding: every request acts as the single local user, with no sign-in."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        user = await self._users.get_by_subject(LOCAL_USER_SUBJECT)
        return None if user is None else Principal(user=user)
