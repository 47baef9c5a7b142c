from application.ports.session_repository import SessionRepository
from domain.identity.errors import SessionNotFoundError
from domain.identity.principals import AuthMethod, Principal
from domain.identity.sessions import Session, SessionId

__all__ = ("GetCurrentSession",)


class GetCurrentSession:
    """The session the caller's cookie belongs to (404 for a caller without one)."""

    def __init__(self, sessions: SessionRepository) -> None:
        self._sessions = sessions

    async def execute(self, actor: Principal) -> Session:
        if actor.method is not AuthMethod.SESSION or actor.credential_id is None:
            raise SessionNotFoundError("This request was not made with a session.")
        session = await self._sessions.get_for_user(SessionId(actor.credential_id), actor.user.id_)
        if session is None:
            raise SessionNotFoundError
        return session
