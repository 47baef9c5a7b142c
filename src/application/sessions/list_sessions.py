from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Principal
from domain.identity.sessions import Session

__all__ = ("ListSessions", "ListSessionsRequest", "ListSessionsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSessionsRequest:
    actor: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSessionsResult:
    sessions: list[Session]


class ListSessions:
    """The caller's live sessions, newest first; never their tokens."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: ListSessionsRequest) -> ListSessionsResult:
        user_id = request.actor.user.id_
        return ListSessionsResult(
            sessions=await self._uow.sessions.list_live(user_id, self._clock.now())
        )
