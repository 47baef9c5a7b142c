from application.ports.clock import Clock
from application.ports.session_repository import SessionRepository
from domain.identity.principals import Principal
from domain.identity.sessions import Session

__all__ = ("ListSessions",)


class ListSessions:
    """The caller's live sessions, newest first; never their tokens."""

    def __init__(self, sessions: SessionRepository, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def execute(self, actor: Principal) -> list[Session]:
        return await self._sessions.list_live(actor.user.id_, self._clock.now())
