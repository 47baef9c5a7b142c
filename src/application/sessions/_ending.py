import logging

from application.audit_trail import audit_in_every_org
from application.errors import DependencyUnavailableError, SignInRejectedError
from application.ports.access_revocations import AccessRevocations, SessionRevoked
from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.identity_provider import IdentityProvider
from application.ports.org_repository import OrgRepository
from application.ports.session_repository import SessionRepository
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.identity.principals import Principal
from domain.identity.sessions import Session

__all__ = ("SessionEnder",)

_log = logging.getLogger(__name__)


class SessionEnder:
    """Ending sessions: revoke here, audit in every org of the user, announce it to every
    server (whose open websockets of those sessions close), then revoke at the provider. The
    provider's refusal or absence never keeps a session alive here, and a provider that cannot
    be reached is not tried again for the other sessions."""

    def __init__(
        self,
        sessions: SessionRepository,
        orgs: OrgRepository,
        provider: IdentityProvider,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
        revocations: AccessRevocations,
    ) -> None:
        self._sessions = sessions
        self._revocations = revocations
        self._orgs = orgs
        self._provider = provider
        self._audit = audit
        self._uow = uow
        self._clock = clock

    async def _end(self, actor: Principal, ended: list[Session]) -> None:
        await audit_in_every_org(
            self._orgs,
            self._audit,
            user_id=actor.user.id_,
            action=AuditAction.SIGNED_OUT,
            occurred_at=self._clock.now(),
            target_type="session",
            target_ids=[str(session.id_) for session in ended],
            details={},
        )
        await self._uow.commit()
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
