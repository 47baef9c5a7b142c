from application.audit_trail import audit_in_every_org
from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from application.ports.org_repository import OrgRepository
from application.ports.provider_token_store import ProviderTokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.git.errors import ProviderNotConnectedError
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal

__all__ = ("DisconnectGitProvider",)


class DisconnectGitProvider:
    """Forget the caller's token for a git provider; 404 when none is stored.

    The token is only forgotten here, not revoked at the provider: the user revokes a personal
    access token where they made it.
    """

    def __init__(
        self,
        tokens: ProviderTokenStore,
        orgs: OrgRepository,
        audit: AuditLog,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._tokens = tokens
        self._orgs = orgs
        self._audit = audit
        self._uow = uow
        self._clock = clock

    async def execute(self, actor: Principal, provider: ProviderKind) -> None:
        user_id = actor.user.id_
        if not await self._tokens.delete(user_id, provider):
            raise ProviderNotConnectedError(provider)
        await audit_in_every_org(
            self._orgs,
            self._audit,
            user_id=user_id,
            action=AuditAction.GIT_PROVIDER_DISCONNECTED,
            occurred_at=self._clock.now(),
            target_type="git_provider",
            target_ids=[provider.value],
            details={},
        )
        await self._uow.commit()
