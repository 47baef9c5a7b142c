from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.git.repository_queries import BranchQuery
from application.ports.git_provider import GitProviders
from domain.git.entities import Branch
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = ("SearchBranches", "SearchBranchesRequest", "SearchBranchesResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchBranchesRequest:
    actor: Principal
    query: BranchQuery


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchBranchesResult:
    branches: list[Branch]


class SearchBranches:
    """Branches of a repository whose name contains the query, through a token fresh for the
    call."""

    def __init__(self, tokens: ProviderTokens, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, request: SearchBranchesRequest) -> SearchBranchesResult:
        query = request.query
        if query.query is None:
            raise InvalidValueError("Say what to search for.", field="query")
        token = await self._tokens.fresh(request.actor.user.id_, query.provider)
        git = self._providers.open(token.host, token.access_token)
        found = await git.search_branches(query.repository, query.query, per_page=query.per_page)
        return SearchBranchesResult(branches=found)
