"""Who acts in a thread, and with which token: a GitHub App's installation, with a token it
mints; or, at GitLab and Bitbucket Cloud, the user who enabled the repository, with the
provider token they connected (refreshed as every use of it is)."""

import logging
from dataclasses import dataclass, field

from application.git.provider_tokens import ProviderTokens
from application.ports.unit_of_work import UnitOfWork
from application.resolver.installation_tokens import InstallationTokens
from application.resolver.links import ResolverLinks
from domain.git.errors import ProviderNotConnectedError, ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.organizations.entities import OrgId
from domain.resolver.entities import AppInstallation, RepositoryHook

__all__ = ("ActingToken", "ThreadCredentials")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActingToken:
    """The organization a thread's triggers are answered in, and the token that answers."""

    org_id: OrgId
    host: GitHost
    web_url: str
    """The web address of the repository's host (a self-managed GitLab's own)."""
    token: str = field(repr=False)
    installation: AppInstallation | None = None
    """The app installation the token was minted for; None for a user's token."""


class ThreadCredentials:
    """The token that acts for an installation (GitHub) or an enabled repository (GitLab,
    Bitbucket): ``installation_id`` names one or the other. None when nobody acts: the
    installation is not linked to an organization or is suspended, the repository is not
    enabled, or its enabling user's token is gone or was refused (they must connect the
    account again)."""

    def __init__(
        self,
        uow: UnitOfWork,
        installations: InstallationTokens,
        provider_tokens: ProviderTokens,
        links: ResolverLinks,
    ) -> None:
        self._uow = uow
        self._installations = installations
        self._provider_tokens = provider_tokens
        self._links = links

    async def acting(self, provider: ProviderKind, installation_id: str) -> ActingToken | None:
        if provider is ProviderKind.GITHUB:
            return await self._of_installation(provider, installation_id)
        hook = await self._uow.repository_hooks.get(installation_id)
        if hook is None or hook.provider is not provider:
            return None
        return await self._of_hook(hook)

    async def refused(self, acting: ActingToken) -> None:
        """The provider refused ``acting``'s token: an installation's is discarded, so the
        next attempt mints another; a user's stays until they connect the account again."""
        if acting.installation is not None:
            await self._installations.discard(acting.installation, acting.token)

    async def _of_installation(
        self, provider: ProviderKind, installation_id: str
    ) -> ActingToken | None:
        installation = await self._uow.app_installations.get(provider, installation_id)
        if installation is None or installation.org_id is None or installation.suspended:
            return None
        token = await self._installations.token_for(installation)
        return ActingToken(
            org_id=installation.org_id,
            host=GitHost(provider),
            web_url=self._links.host_url(provider),
            token=token,
            installation=installation,
        )

    async def _of_hook(self, hook: RepositoryHook) -> ActingToken | None:
        try:
            token = await self._provider_tokens.fresh(hook.enabled_by, hook.provider)
        except (ProviderNotConnectedError, ProviderReconnectRequiredError) as exc:
            _log.info("repository %s has no token to act with: %s", hook.repository, exc.message)
            return None
        web_url = token.host.base_url or self._links.host_url(hook.provider)
        if web_url.rstrip("/").lower() != hook.web_url.rstrip("/").lower():
            _log.info("repository %s: its enabling user's token is another host's", hook.id_)
            return None
        return ActingToken(
            org_id=hook.org_id, host=token.host, web_url=hook.web_url, token=token.access_token
        )
