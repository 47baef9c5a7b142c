from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.git.repository_queries import RepositoryQuery
from application.ports.git_provider import GitProviders
from domain.git.entities import Page, Repository
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("SearchRepositories", "SearchRepositoriesRequest", "SearchRepositoriesResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchRepositoriesRequest:
    actor: Principal
    query: RepositoryQuery


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchRepositoriesResult:
    repositories: Page[Repository]


class SearchRepositories:
    """Repositories at a provider whose name matches the query, through a token fresh for the
    call."""

    def __init__(self, tokens: ProviderTokens, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, request: SearchRepositoriesRequest) -> SearchRepositoriesResult:
        query = request.query
        if query.query is None:
            raise InvalidValueError("Say what to search for.", field="query")
        token = await self._tokens.fresh(request.actor.user.id_, query.provider)
        git = self._providers.open(token.host, token.access_token)
        found = await git.search_repositories(
            query.query, page=query.page, per_page=query.per_page, sort=query.sort
        )
        return SearchRepositoriesResult(repositories=found)
