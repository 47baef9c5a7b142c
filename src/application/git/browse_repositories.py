"""What the user can reach at a git provider: repositories, branches, GitHub App installations.

Each use case gets a token fresh for the call (refreshed once if it is about to expire) and
asks the provider through it; nothing here is cached or stored.
"""

from dataclasses import dataclass

from application.git.get_provider_token import GetProviderToken
from application.ports.git_provider import GitInstallations, GitProvider, GitProviders
from domain.git.entities import Branch, Installation, Page, Repository, RepoSort
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError

__all__ = (
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_QUERY",
    "BranchQuery",
    "ListBranches",
    "ListInstallations",
    "ListRepositories",
    "OnGitProvider",
    "RepositoryQuery",
    "SearchBranches",
    "SearchRepositories",
)

MAX_PAGE = 10_000
MAX_PER_PAGE = 100
MAX_QUERY = 200
_NO_INSTALLATIONS = "Installations are GitHub Apps'; leave it out for other providers."


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryQuery:
    provider: ProviderKind
    page: int = 1
    per_page: int = 30
    sort: RepoSort = RepoSort.PUSHED
    installation_id: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        _check_paging(self.page, self.per_page)
        if self.installation_id is not None:
            if self.provider is not ProviderKind.GITHUB:
                raise InvalidValueError(_NO_INSTALLATIONS, field="installationId")
            if not self.installation_id.isdigit() or len(self.installation_id) > 20:
                raise InvalidValueError("An installation id is a number.", field="installationId")
        if self.query is not None:
            object.__setattr__(self, "query", _clean_query(self.query))


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchQuery:
    provider: ProviderKind
    repository: str
    page: int = 1
    per_page: int = 30
    query: str | None = None

    def __post_init__(self) -> None:
        _check_paging(self.page, self.per_page)
        if not self.repository.strip() or len(self.repository) > 500:
            raise InvalidValueError("Name the repository as owner/name.", field="repository")
        if self.query is not None:
            object.__setattr__(self, "query", _clean_query(self.query))


def _check_paging(page: int, per_page: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise InvalidValueError(f"Pages are numbered from 1 to {MAX_PAGE}.", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidValueError(f"Ask for 1 to {MAX_PER_PAGE} items a page.", field="perPage")


def _clean_query(query: str) -> str:
    cleaned = query.strip()
    if not cleaned or len(cleaned) > MAX_QUERY or any(ch < " " for ch in cleaned):
        raise InvalidValueError(f"Search for 1 to {MAX_QUERY} printable characters.", field="query")
    return cleaned


class OnGitProvider:
    """Base of the use cases that ask a git provider something with the caller's token."""

    def __init__(self, tokens: GetProviderToken, providers: GitProviders) -> None:
        self._tokens = tokens
        self._providers = providers

    async def _open(self, actor: Principal, provider: ProviderKind) -> GitProvider:
        token = await self._tokens.execute(actor.user.id_, provider)
        return self._providers.open(token.host, token.access_token)

    async def _open_installations(
        self, actor: Principal, provider: ProviderKind
    ) -> GitInstallations | None:
        token = await self._tokens.execute(actor.user.id_, provider)
        return self._providers.installations(token.host, token.access_token)


class ListRepositories(OnGitProvider):
    """The repositories the caller can reach at a provider, a page at a time, newest push
    first by default; on GitHub, optionally those of one App installation."""

    async def execute(self, actor: Principal, query: RepositoryQuery) -> Page[Repository]:
        if query.installation_id is None:
            git = await self._open(actor, query.provider)
            return await git.list_repositories(
                page=query.page, per_page=query.per_page, sort=query.sort
            )
        installations = await self._open_installations(actor, query.provider)
        if installations is None:
            raise InvalidValueError(_NO_INSTALLATIONS, field="installationId")
        return await installations.list_installation_repositories(
            query.installation_id, page=query.page, per_page=query.per_page
        )


class SearchRepositories(OnGitProvider):
    """Repositories at a provider whose name matches the query."""

    async def execute(self, actor: Principal, query: RepositoryQuery) -> Page[Repository]:
        if query.query is None:
            raise InvalidValueError("Say what to search for.", field="query")
        git = await self._open(actor, query.provider)
        return await git.search_repositories(
            query.query, page=query.page, per_page=query.per_page, sort=query.sort
        )


class ListBranches(OnGitProvider):
    """The branches of a repository, a page at a time."""

    async def execute(self, actor: Principal, query: BranchQuery) -> Page[Branch]:
        git = await self._open(actor, query.provider)
        return await git.list_branches(query.repository, page=query.page, per_page=query.per_page)


class SearchBranches(OnGitProvider):
    """Branches of a repository whose name contains the query."""

    async def execute(self, actor: Principal, query: BranchQuery) -> list[Branch]:
        if query.query is None:
            raise InvalidValueError("Say what to search for.", field="query")
        git = await self._open(actor, query.provider)
        return await git.search_branches(query.repository, query.query, per_page=query.per_page)


class ListInstallations(OnGitProvider):
    """The GitHub App installations the caller can reach (none on other providers)."""

    async def execute(self, actor: Principal, provider: ProviderKind) -> list[Installation]:
        installations = await self._open_installations(actor, provider)
        return [] if installations is None else await installations.list_installations()
