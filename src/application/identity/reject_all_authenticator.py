from application.ports.authenticator import Authenticator, Credentials, Principal

__all__ = ("RejectAllAuthenticator",)


class RejectAllAuthenticator(Authenticator):
    """A binding with no sign-in method configured: no credential proves anyone."""

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        return None
