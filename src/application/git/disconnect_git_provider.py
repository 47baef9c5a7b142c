from dataclasses import dataclass

from application.audit_trail import audit_in_every_org
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.git.errors import ProviderNotConnectedError
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal

__all__ = ("DisconnectGitProvider", "DisconnectGitProviderRequest")


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectGitProviderRequest:
    actor: Principal
    provider: ProviderKind


class DisconnectGitProvider:
    """Forget the caller's token for a git provider; 404 when none is stored.

    The token is only forgotten here, not revoked at the provider: the user revokes a personal
    access token where they made it.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: DisconnectGitProviderRequest) -> None:
        user_id, provider = request.actor.user.id_, request.provider
        if not await self._uow.provider_tokens.delete(user_id, provider):
            raise ProviderNotConnectedError(provider)
        await audit_in_every_org(
            self._uow.orgs,
            self._uow.audit,
            user_id=user_id,
            action=AuditAction.GIT_PROVIDER_DISCONNECTED,
            occurred_at=self._clock.now(),
            target_type="git_provider",
            target_ids=[provider.value],
            details={},
        )
        await self._uow.commit()
