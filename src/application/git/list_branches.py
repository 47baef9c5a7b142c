from dataclasses import dataclass

from application.git.provider_tokens import ProviderTokens
from application.git.repository_queries import BranchQuery
from application.ports.git_provider import GitProviders
from domain.git.entities import Branch, Page
from domain.identity.principals import Principal

__all__ = ("ListBranches", "ListBranchesRequest", "ListBranchesResult")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListBranchesRequest:
    actor: Principal
    query: BranchQuery


@dataclass(frozen=True, slots=True, kw_only=True)
class ListBranchesResult:
    branches: Page[Branch]


class ListBranches:
    """The branches of a repository, a page at a time, through a token fresh for the call."""

    def __init__(self, tokens: ProviderTokens, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def execute(self, request: ListBranchesRequest) -> ListBranchesResult:
        query = request.query
        token = await self._tokens.fresh(request.actor.user.id_, query.provider)
        git = self._providers.open(token.host, token.access_token)
        found = await git.list_branches(query.repository, page=query.page, per_page=query.per_page)
        return ListBranchesResult(branches=found)
