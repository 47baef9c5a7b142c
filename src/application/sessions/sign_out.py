from dataclasses import dataclass

from application.audit_trail import audit_in_every_org
from application.errors import DependencyUnavailableError
from application.identity.sign_in_policy import SignInPolicy
from application.ports.clock import Clock
from application.ports.identity_provider import IdentityProvider
from application.ports.unit_of_work import UnitOfWork
from application.sessions.session_endings import SessionEndings
from domain.audit.entities import AuditAction
from domain.identity.principals import AuthMethod, Principal
from domain.identity.sessions import Session, SessionId

__all__ = ("SignOut", "SignOutRequest", "SignOutResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignOutRequest:
    actor: Principal
    everywhere: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SignOutResult:
    logout_url: str | None
    """Where the browser should go to end the provider's own session, if it has one."""
    sessions_ended: int


class SignOut:
    """End the calling session, or every session of the caller (``everywhere``), here and at
    the provider. Only a person signs out: API keys are refused before this runs.

    The sessions are revoked and audited in every org of the user in one commit; after it,
    every server hears of it and the provider is asked to revoke their tokens. Ending our
    sessions never waits on the provider: while it is down, sign-out still ends them and
    answers no logout URL."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        provider: IdentityProvider,
        endings: SessionEndings,
        policy: SignInPolicy,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._provider = provider
        self._endings = endings
        self._policy = policy

    async def execute(self, request: SignOutRequest) -> SignOutResult:
        actor = request.actor
        current: Session | None = None
        if actor.method is AuthMethod.SESSION and actor.credential_id is not None:
            current = await self._uow.sessions.get_for_user(
                SessionId(actor.credential_id), actor.user.id_
            )
        if request.everywhere or current is None:
            ended = await self._uow.sessions.revoke_all(actor.user.id_, self._clock.now())
        else:
            await self._uow.sessions.save(current.revoked(self._clock.now()))
            ended = [current]
        await audit_in_every_org(
            self._uow.orgs,
            self._uow.audit,
            user_id=actor.user.id_,
            action=AuditAction.SIGNED_OUT,
            occurred_at=self._clock.now(),
            target_type="session",
            target_ids=[str(session.id_) for session in ended],
            details={},
        )
        await self._uow.commit()
        await self._endings.announce(ended)
        hint = current.tokens.id_token if current is not None else None
        try:
            logout_url = await self._provider.end_session_url(
                id_token_hint=hint, post_logout_redirect_uri=self._policy.post_logout_redirect_uri
            )
        except DependencyUnavailableError:
            logout_url = None  # the provider is down: our sessions are ended all the same
        return SignOutResult(logout_url=logout_url, sessions_ended=len(ended))
