from application.ports.authenticator import Authenticator, Credentials, Principal
from domain.ports.user_repository import UserRepository


class BearerSubjectAuthenticator(Authenticator):
    """Stands in for sign-in in tests: ``Authorization: Bearer <subject>`` acts as that user.

    The user must already exist; an unknown subject, another scheme or no header proves nobody.
    """

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        scheme, _, subject = (credentials.authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not subject:
            return None
        user = await self._users.get_by_subject(subject)
        return None if user is None else Principal(user=user)
