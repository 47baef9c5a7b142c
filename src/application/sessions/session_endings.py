import logging

from application.errors import DependencyUnavailableError, SignInRejectedError
from application.ports.access_revocations import AccessRevocations, SessionRevoked
from application.ports.identity_provider import IdentityProvider
from domain.identity.sessions import Session

__all__ = ("SessionEndings",)

_log = logging.getLogger(__name__)


class SessionEndings:
    """What follows the commit that ended sessions: announce it to every server (whose open
    websockets of those sessions close), then revoke at the provider. The provider's refusal
    or absence never keeps a session alive here, and a provider that cannot be reached is not
    tried again for the other sessions. It writes nothing."""

    def __init__(self, provider: IdentityProvider, revocations: AccessRevocations) -> None:
        self._provider = provider
        self._revocations = revocations

    async def announce(self, ended: list[Session]) -> None:
        await self._revocations.publish([SessionRevoked(session.id_) for session in ended])
        for session in ended:
            if session.tokens.refresh_token is None:
                continue
            try:
                await self._provider.revoke(session.tokens.refresh_token)
            except SignInRejectedError as exc:
                _log.warning("provider revocation failed for session %s: %s", session.id_, exc)
            except DependencyUnavailableError as exc:
                _log.warning("provider revocation skipped, the provider is down: %s", exc)
                return
