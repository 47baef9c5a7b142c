from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from domain.identity.errors import SessionNotFoundError
from domain.identity.principals import AuthMethod, Principal
from domain.identity.sessions import Session, SessionId

__all__ = ("GetCurrentSession", "GetCurrentSessionRequest", "GetCurrentSessionResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCurrentSessionRequest:
    actor: Principal


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCurrentSessionResult:
    session: Session


class GetCurrentSession:
    """The session the caller's cookie belongs to (404 for a caller without one)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: GetCurrentSessionRequest) -> GetCurrentSessionResult:
        actor = request.actor
        if actor.method is not AuthMethod.SESSION or actor.credential_id is None:
            raise SessionNotFoundError("This request was not made with a session.")
        session = await self._uow.sessions.get_for_user(
            SessionId(actor.credential_id), actor.user.id_
        )
        if session is None:
            raise SessionNotFoundError
        return GetCurrentSessionResult(session=session)
