from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.authenticator import Authenticator
from application.ports.unit_of_work import UnitsOfWork
from domain.identity.api_keys import TOKEN_PREFIX
from domain.identity.principals import AuthMethod, Credentials, Principal


class BearerSubjectAuthenticator(Authenticator):
    """Stands in for session sign-in: ``Authorization: Bearer <subject>`` acts as that user.

    The user must already exist; an unknown subject, another scheme or no header proves nobody.
    Real API keys (``Bearer mst_...``) still go to the real API key authenticator.
    """

    def __init__(self, units: UnitsOfWork, api_keys: ApiKeyAuthenticator) -> None:
        self._units = units
        self._api_keys = api_keys

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        subject = credentials.bearer
        if subject is None:
            return None
        if subject.startswith(f"{TOKEN_PREFIX}_"):
            return await self._api_keys.authenticate(credentials)
        async with self._units.begin() as uow:
            user = await uow.users.get_by_subject(subject)
        return None if user is None else Principal(user=user, method=AuthMethod.SESSION)
