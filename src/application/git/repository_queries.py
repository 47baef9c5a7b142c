"""What a caller may ask a git provider for: a page of repositories or branches, optionally
matching a search; checked here so every provider sees the same bounds."""

from dataclasses import dataclass

from domain.git.entities import RepoSort
from domain.git.providers import ProviderKind
from domain.shared.errors import InvalidValueError

__all__ = (
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_QUERY",
    "NO_INSTALLATIONS",
    "BranchQuery",
    "RepositoryQuery",
)

MAX_PAGE = 10_000
MAX_PER_PAGE = 100
MAX_QUERY = 200
NO_INSTALLATIONS = "Installations are GitHub Apps'; leave it out for other providers."


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
                raise InvalidValueError(NO_INSTALLATIONS, field="installation_id")
            if not self.installation_id.isdigit() or len(self.installation_id) > 20:
                raise InvalidValueError("An installation id is a number.", field="installation_id")
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
        raise InvalidValueError(f"Ask for 1 to {MAX_PER_PAGE} items a page.", field="per_page")


def _clean_query(query: str) -> str:
    cleaned = query.strip()
    if not cleaned or len(cleaned) > MAX_QUERY or any(ch < " " for ch in cleaned):
        raise InvalidValueError(f"Search for 1 to {MAX_QUERY} printable characters.", field="query")
    return cleaned
