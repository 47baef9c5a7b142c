from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.git.repository_queries import NO_INSTALLATIONS, RepositoryQuery
from application.ports.git_provider import GitProviders
from domain.git.entities import Page, Repository
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("ListRepositories", "ListRepositoriesRequest", "ListRepositoriesResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListRepositoriesRequest:
    actor: Principal
    query: RepositoryQuery


@dataclass(frozen=True, slots=True, kw_only=True)
class ListRepositoriesResult:
    repositories: Page[Repository]


class ListRepositories:
    """The repositories the caller can reach at a provider, a page at a time, newest push
    first by default; on GitHub, optionally those of one App installation. The caller's token
    is fresh for the call (refreshed first if it is about to expire); nothing is cached."""

    def __init__(self, tokens: ProviderTokens, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, request: ListRepositoriesRequest) -> ListRepositoriesResult:
        query = request.query
        token = await self._tokens.fresh(request.actor.user.id_, query.provider)
        if query.installation_id is None:
            git = self._providers.open(token.host, token.access_token)
            found = await git.list_repositories(
                page=query.page, per_page=query.per_page, sort=query.sort
            )
            return ListRepositoriesResult(repositories=found)
        installations = self._providers.installations(token.host, token.access_token)
        if installations is None:
            raise InvalidValueError(NO_INSTALLATIONS, field="installation_id")
        found = await installations.list_installation_repositories(
            query.installation_id, page=query.page, per_page=query.per_page
        )
        return ListRepositoriesResult(repositories=found)
