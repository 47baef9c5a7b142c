from inspect import getdoc
from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get
from litestar.params import QueryParameter

from application.git import (
    BranchQuery,
    ListBranches,
    ListBranchesRequest,
    ListInstallations,
    ListInstallationsRequest,
    ListRepositories,
    ListRepositoriesRequest,
    RepositoryQuery,
    SearchBranches,
    SearchBranchesRequest,
    SearchRepositories,
    SearchRepositoriesRequest,
)
from application.git.repository_queries import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY
from domain.git.entities import RepoSort
from domain.git.providers import ProviderKind
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from entrypoints.http.auth import requires
from entrypoints.http.repositories.schemas import (
    BranchList,
    InstallationList,
    InstallationOut,
    RepositoryList,
)

__all__ = ("RepositoryController",)

READ = requires(Scope.GIT_READ)

Provider = Annotated[ProviderKind, QueryParameter(name="provider", description="The git host.")]
PageNumber = Annotated[int, QueryParameter(name="page", description="From 1.", ge=1, le=MAX_PAGE)]
PerPage = Annotated[
    int, QueryParameter(name="perPage", description="Items a page.", ge=1, le=MAX_PER_PAGE)
]
SortOrder = Annotated[RepoSort, QueryParameter(name="sort", description="The order.")]
Installation = Annotated[
    str | None,
    QueryParameter(
        name="installationId",
        description="GitHub App installation (github only).",
        pattern=r"^[0-9]{1,20}$",
    ),
]
SEARCHABLE = r"^(?=.*\S)[^\x00-\x1f]*$"
"""Something besides whitespace, and no control characters: what the use cases accept."""
RepositoryName = Annotated[
    str,
    QueryParameter(name="repository", description="owner/name.", max_length=500, pattern=r"\S"),
]
SearchText = Annotated[
    str, QueryParameter(name="query", min_length=1, max_length=MAX_QUERY, pattern=SEARCHABLE)
]


class RepositoryController(Controller):
    """The caller's repositories, branches and GitHub App installations at a connected git
    provider, read live through a token refreshed when it is about to expire."""

    path = "/api/user"
    tags = ["git"]  # noqa: RUF012

    @get(
        "/repositories",
        operation_id="ListRepositories",
        description=getdoc(ListRepositories),
        opt=READ,
    )
    @inject
    async def repositories(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[ListRepositories],
        provider: Provider,
        page: PageNumber = 1,
        per_page: PerPage = 30,
        sort: SortOrder = RepoSort.PUSHED,
        installation_id: Installation = None,
    ) -> RepositoryList:
        query = RepositoryQuery(
            provider=provider,
            page=page,
            per_page=per_page,
            sort=sort,
            installation_id=installation_id,
        )
        found = await use_case.execute(ListRepositoriesRequest(actor=actor, query=query))
        return RepositoryList.from_page(found.repositories)

    @get(
        "/search/repositories",
        operation_id="SearchRepositories",
        description=getdoc(SearchRepositories),
        opt=READ,
    )
    @inject
    async def search_repositories(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[SearchRepositories],
        provider: Provider,
        search: SearchText,
        page: PageNumber = 1,
        per_page: PerPage = 30,
        sort: SortOrder = RepoSort.PUSHED,
    ) -> RepositoryList:
        request = RepositoryQuery(
            provider=provider,
            page=page,
            per_page=per_page,
            sort=sort,
            query=search,
        )
        found = await use_case.execute(SearchRepositoriesRequest(actor=actor, query=request))
        return RepositoryList.from_page(found.repositories)

    @get(
        "/repository/branches",
        operation_id="ListBranches",
        description=getdoc(ListBranches),
        opt=READ,
    )
    @inject
    async def branches(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[ListBranches],
        provider: Provider,
        repository: RepositoryName,
        page: PageNumber = 1,
        per_page: PerPage = 30,
    ) -> BranchList:
        query = BranchQuery(
            provider=provider,
            repository=repository,
            page=page,
            per_page=per_page,
        )
        found = (await use_case.execute(ListBranchesRequest(actor=actor, query=query))).branches
        return BranchList.from_branches(found.items, next_page=found.next_page, total=found.total)

    @get(
        "/search/branches",
        operation_id="SearchBranches",
        description=getdoc(SearchBranches),
        opt=READ,
    )
    @inject
    async def search_branches(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[SearchBranches],
        provider: Provider,
        repository: RepositoryName,
        search: SearchText,
        per_page: PerPage = 30,
    ) -> BranchList:
        request = BranchQuery(
            provider=provider,
            repository=repository,
            per_page=per_page,
            query=search,
        )
        found = await use_case.execute(SearchBranchesRequest(actor=actor, query=request))
        return BranchList.from_branches(found.branches)

    @get(
        "/installations",
        operation_id="ListInstallations",
        description=getdoc(ListInstallations),
        opt=READ,
    )
    @inject
    async def installations(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[ListInstallations],
        provider: Provider = ProviderKind.GITHUB,
    ) -> InstallationList:
        found = await use_case.execute(ListInstallationsRequest(actor=actor, provider=provider))
        return InstallationList(items=[InstallationOut.from_entity(i) for i in found.installations])
