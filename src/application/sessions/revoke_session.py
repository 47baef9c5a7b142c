from dataclasses import dataclass

from application.sessions._ending import SessionEnder
from domain.identity.errors import SessionNotFoundError
from domain.identity.principals import Principal
from domain.identity.sessions import SessionId

__all__ = ("RevokeSession", "RevokeSessionRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeSessionRequest:
    actor: Principal
    session_id: SessionId


class RevokeSession(SessionEnder):
    """End one of the caller's sessions, here and at the provider; someone else's session is
    reported as not found."""

    async def execute(self, request: RevokeSessionRequest) -> None:
        session = await self._sessions.get_for_user(request.session_id, request.actor.user.id_)
        if session is None or session.revoked_at is not None:
            raise SessionNotFoundError
        await self._sessions.save(session.revoked(self._clock.now()))
        await self._end(request.actor, [session])
