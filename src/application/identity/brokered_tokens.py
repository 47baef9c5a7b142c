import logging
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.git_provider import GitProviders
from application.ports.identity_admin import IdentityAdmin
from application.ports.unit_of_work import UnitOfWork
from domain.git.entities import ProviderToken
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from domain.resolver.entities import GitIdentity
from domain.shared.errors import DomainError

__all__ = ("BrokeredHosts", "BrokeredTokenCapture", "IgnoreBrokeredTokens", "KeepBrokeredTokens")

_log = logging.getLogger(__name__)


def _clouds() -> dict[str, GitHost]:
    return {kind.value: GitHost(kind) for kind in ProviderKind}


@dataclass(frozen=True, slots=True)
class BrokeredHosts:
    """The git host behind each of the broker's identity provider aliases. An alias it does not
    name (an enterprise SSO, say) brokers no git token. By default the aliases are the provider
    names and the hosts their public clouds."""

    by_alias: Mapping[str, GitHost] = field(default_factory=_clouds)


class BrokeredTokenCapture(Protocol):
    """What to do at sign-in with the token the identity broker got from GitHub and co."""

    @abstractmethod
    async def capture(
        self, *, user_id: UserId, identity_provider: str | None, access_token: str
    ) -> None: ...


class IgnoreBrokeredTokens(BrokeredTokenCapture):
    """A plain OpenID Connect issuer brokers nothing."""

    async def capture(
        self, *, user_id: UserId, identity_provider: str | None, access_token: str
    ) -> None:
        return None


class KeepBrokeredTokens(BrokeredTokenCapture):
    """Keycloak: read the upstream token from its broker endpoint and keep it, sealed, in the
    sign-in's unit of work (the sign-in commits it), with the provider account it is of. A
    broker that keeps no token, or fails, does not stop the sign-in: the user can connect the
    provider later."""

    def __init__(
        self,
        admin: IdentityAdmin,
        uow: UnitOfWork,
        clock: Clock,
        hosts: BrokeredHosts,
        providers: GitProviders,
    ) -> None:
        self._providers = providers
        self._admin = admin
        self._uow = uow
        self._clock = clock
        self._hosts = hosts.by_alias

    async def capture(
        self, *, user_id: UserId, identity_provider: str | None, access_token: str
    ) -> None:
        host = None if identity_provider is None else self._hosts.get(identity_provider)
        if identity_provider is None or host is None:
            return
        try:
            brokered = await self._admin.brokered_token(
                access_token=access_token, identity_provider=identity_provider
            )
        except DependencyUnavailableError as exc:
            _log.warning("no brokered token for %s: %s", identity_provider, exc)
            return
        if brokered is None:
            return
        now = self._clock.now()
        await self._uow.provider_tokens.put(
            ProviderToken(
                user_id=user_id,
                host=host,
                access_token=brokered.access_token,
                refresh_token=brokered.refresh_token,
                expires_at=brokered.expires_at,
                scopes=brokered.scopes,
                updated_at=now,
            )
        )
        if host.base_url is None:
            await self._link(user_id, host, brokered.access_token, now)

    async def _link(self, user_id: UserId, host: GitHost, token: str, now: datetime) -> None:
        """Keep the account signed in with as the user's at that provider (a webhook that names
        it acts as them); a provider that cannot say which account it is leaves it unlinked."""
        try:
            account = await self._providers.open(host, token).get_account()
        except (DomainError, DependencyUnavailableError) as exc:
            _log.warning("the %s account signed in with is not linked: %s", host.kind, exc)
            return
        await self._uow.git_identities.link(
            GitIdentity(
                user_id=user_id,
                provider=host.kind,
                account_id=account.id_,
                login=account.login,
                linked_at=now,
            )
        )
