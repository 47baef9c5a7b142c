from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.ports.git_provider import GitProviders
from domain.git.entities import Installation
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal

__all__ = ("ListInstallations", "ListInstallationsRequest", "ListInstallationsResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInstallationsRequest:
    actor: Principal
    provider: ProviderKind


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInstallationsResult:
    installations: list[Installation]


class ListInstallations:
    """The GitHub App installations the caller can reach (none on other providers), through a
    token fresh for the call."""

    def __init__(self, tokens: ProviderTokens, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, request: ListInstallationsRequest) -> ListInstallationsResult:
        token = await self._tokens.fresh(request.actor.user.id_, request.provider)
        installations = self._providers.installations(token.host, token.access_token)
        found = [] if installations is None else await installations.list_installations()
        return ListInstallationsResult(installations=found)
