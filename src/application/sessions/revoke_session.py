from dataclasses import dataclass

from application.audit_trail import audit_in_every_org
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from application.sessions.session_endings import SessionEndings
from domain.audit.entities import AuditAction
from domain.identity.errors import SessionNotFoundError
from domain.identity.principals import Principal
from domain.identity.sessions import SessionId

__all__ = ("RevokeSession", "RevokeSessionRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeSessionRequest:
    actor: Principal
    session_id: SessionId


class RevokeSession:
    """End one of the caller's sessions, here and at the provider; someone else's session is
    reported as not found.

    The session is revoked and audited in every org of the user in one commit; after it, every
    server hears of it and the provider is asked to revoke its tokens.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, endings: SessionEndings) -> None:
        self._uow = uow
        self._clock = clock
        self._endings = endings

    async def execute(self, request: RevokeSessionRequest) -> None:
        actor = request.actor
        session = await self._uow.sessions.get_for_user(request.session_id, actor.user.id_)
        if session is None or session.revoked_at is not None:
            raise SessionNotFoundError
        await self._uow.sessions.save(session.revoked(self._clock.now()))
        await audit_in_every_org(
            self._uow.orgs,
            self._uow.audit,
            user_id=actor.user.id_,
            action=AuditAction.SIGNED_OUT,
            occurred_at=self._clock.now(),
            target_type="session",
            target_ids=[str(session.id_)],
            details={},
        )
        await self._uow.commit()
        await self._endings.announce([session])
