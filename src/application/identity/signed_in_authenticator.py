from application.identity.api_key_authenticator import ApiKeyAuthenticator
from application.identity.authenticator import Authenticator
from application.identity.session_authenticator import SessionAuthenticator
from domain.identity.principals import Credentials, Principal

__all__ = ("SignedInAuthenticator",)


class SignedInAuthenticator(Authenticator):
    """Clustered binding: an ``Authorization`` header must be an API key; otherwise the
    session cookie decides. A bad header never falls back to the cookie."""

    def __init__(self, api_keys: ApiKeyAuthenticator, sessions: SessionAuthenticator) -> None:
        self._api_keys = api_keys
        self._sessions = sessions

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        if credentials.authorization is not None:
            return await self._api_keys.authenticate(credentials)
        return await self._sessions.authenticate(credentials)
