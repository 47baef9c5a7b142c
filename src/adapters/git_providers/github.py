from urllib.parse import quote

import httpx

from adapters.git_providers.http import (
    ProviderHttp,
    bounded_per_page,
    checked_page,
    checked_query,
    contains,
    page_param,
    repository_segments,
)
from adapters.git_providers.payloads import (
    GhBranch,
    GhGraphqlRefs,
    GhInstallation,
    GhInstallationRepositories,
    GhInstallations,
    GhOrganization,
    GhRepository,
    GhSearch,
    GhUser,
)
from application.errors import DependencyUnavailableError
from application.ports.git_provider import GitInstallations, GitProvider
from domain.git.entities import Branch, GitAccount, Installation, Page, Repository, RepoSort
from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import InvalidValueError, NotFoundError

__all__ = ("GitHubProvider",)

_SORT = {
    RepoSort.PUSHED: ("pushed", "desc"),
    RepoSort.UPDATED: ("updated", "desc"),
    RepoSort.CREATED: ("created", "desc"),
    RepoSort.NAME: ("full_name", "asc"),
}
_MAX_INSTALLATION_PAGES = 10
_MAX_SEARCH_ORGS = 100

_REFS_QUERY = """
query($owner: String!, $name: String!, $query: String!, $first: Int!) {
  repository(owner: $owner, name: $name) {
    refs(refPrefix: "refs/heads/", query: $query, first: $first,
         orderBy: {field: ALPHABETICAL, direction: ASC}) {
      nodes {
        name
        target { ... on Commit { oid committedDate } }
        branchProtectionRule { id }
      }
    }
  }
}
"""


def _repository(raw: GhRepository, installation_id: str | None = None) -> Repository:
    owner_type = None
    if raw.owner is not None:
        owner_type = "organization" if raw.owner.type == "Organization" else "user"
    return Repository(
        provider=ProviderKind.GITHUB,
        id_=str(raw.id),
        full_name=raw.full_name,
        is_private=raw.private,
        default_branch=raw.default_branch,
        pushed_at=raw.pushed_at,
        owner_type=owner_type,
        stars=raw.stargazers_count,
        installation_id=installation_id,
    )


def _installation(raw: GhInstallation) -> Installation | None:
    """An installation on a user or an organization (its login and type), or on an enterprise
    (its slug, type ``Enterprise``); one without an account, which GitHub documents as
    possible, has no owner to show and is left out."""
    account = raw.account
    if account is None:
        return None
    if account.login is not None:
        return Installation(
            id_=str(raw.id), account_login=account.login, account_type=account.type or "User"
        )
    if account.slug is not None:
        return Installation(id_=str(raw.id), account_login=account.slug, account_type="Enterprise")
    return None


def _installation_id(raw: str) -> str:
    if not raw.isdigit() or len(raw) > 20:
        raise InvalidValueError("An installation id is a number.", field="installation_id")
    return raw


class GitHubProvider(GitProvider, GitInstallations):
    """GitHub's REST v3 API (github.com or GitHub Enterprise Server) with one user's token.

    Branch search goes through GraphQL: ``refs(refPrefix: "refs/heads/", query: ...)`` matches
    names that contain the text, in one request, as the port promises; REST's
    ``matching-refs`` matches prefixes only, which would miss ``feature/login`` for ``login``.
    Search matches names among the repositories of the user and of their organizations
    (``user:`` and ``org:`` qualifiers, which GitHub takes as alternatives; forks included), as
    GitLab's and Bitbucket's searches keep to the user's memberships; it costs two more
    requests (``/user``, ``/user/orgs``). It is also the user's view of their GitHub App
    installations, which only GitHub has: on users, organizations and enterprises.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        host: GitHost,
        *,
        api_url: str,
        graphql_url: str,
        token: str,
    ) -> None:
        self._http = ProviderHttp(
            client,
            host,
            api_url=api_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        self._graphql_url = graphql_url

    @property
    def host(self) -> GitHost:
        return self._http.host

    async def get_account(self) -> GitAccount:
        user = self._http.decode(await self._http.get("/user"), GhUser)
        return GitAccount(
            provider=ProviderKind.GITHUB,
            id_=str(user.id),
            login=user.login,
            name=user.name,
            email=user.email,
            avatar_url=user.avatar_url,
        )

    async def list_repositories(
        self, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        order, direction = _SORT[sort]
        response = await self._http.get(
            "/user/repos",
            {
                "page": checked_page(page),
                "per_page": bounded_per_page(per_page),
                "sort": order,
                "direction": direction,
            },
        )
        repos = self._http.decode(response, list[GhRepository])
        return Page(items=[_repository(r) for r in repos], next_page=page_param(_next(response)))

    async def search_repositories(
        self, query: str, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        text = checked_query(query)
        params: dict[str, str | int] = {"page": checked_page(page)}
        params["per_page"] = bounded_per_page(per_page)
        owners = " ".join(
            [f"user:{await self._login()}", *(f"org:{o}" for o in await self._organizations())]
        )
        params["q"] = f"{text} in:name fork:true {owners}"
        if sort in (RepoSort.PUSHED, RepoSort.UPDATED):
            params |= {"sort": "updated", "order": "desc"}
        response = await self._http.get("/search/repositories", params)
        body = self._http.decode(response, GhSearch)
        return Page(
            items=[_repository(r) for r in body.items],
            next_page=page_param(_next(response)),
            total=body.total_count,
        )

    async def _login(self) -> str:
        return self._http.decode(await self._http.get("/user"), GhUser).login

    async def _organizations(self) -> list[str]:
        """The user's organizations (the first 100, within what search accepts)."""
        response = await self._http.get("/user/orgs", {"per_page": _MAX_SEARCH_ORGS})
        return [o.login for o in self._http.decode(response, list[GhOrganization])]

    async def list_branches(self, repository: str, *, page: int, per_page: int) -> Page[Branch]:
        owner, name = repository_segments(repository, max_segments=2)
        response = await self._http.get(
            f"/repos/{quote(owner)}/{quote(name)}/branches",
            {"page": checked_page(page), "per_page": bounded_per_page(per_page)},
            repository=repository,
        )
        branches = self._http.decode(response, list[GhBranch])
        return Page(
            items=[
                Branch(
                    name=b.name,
                    commit_sha=b.commit.sha if b.commit else None,
                    protected=b.protected,
                )
                for b in branches
            ],
            next_page=page_param(_next(response)),
        )

    async def search_branches(self, repository: str, query: str, *, per_page: int) -> list[Branch]:
        owner, name = repository_segments(repository, max_segments=2)
        text = checked_query(query)
        response = await self._http.send(
            "POST",
            self._graphql_url,
            json={
                "query": _REFS_QUERY,
                "variables": {
                    "owner": owner,
                    "name": name,
                    "query": text,
                    "first": bounded_per_page(per_page),
                },
            },
            repository=repository,
        )
        body = self._http.decode(response, GhGraphqlRefs)
        if body.errors:
            if any(e.type == "NOT_FOUND" for e in body.errors):
                raise NotFoundError(
                    f"{self._http.name} has no repository {repository!r} you can see.",
                    field="repository",
                )
            raise DependencyUnavailableError(f"{self._http.name} could not search branches.")
        found = body.data.repository if body.data else None
        if found is None or found.refs is None:
            raise NotFoundError(
                f"{self._http.name} has no repository {repository!r} you can see.",
                field="repository",
            )
        return [
            Branch(
                name=node.name,
                commit_sha=node.target.oid if node.target else None,
                protected=node.branchProtectionRule is not None,
                last_commit_at=node.target.committedDate if node.target else None,
            )
            for node in found.refs.nodes
            if contains(node.name, text)
        ]

    async def list_installations(self) -> list[Installation]:
        """Every installation the user can reach, following pages (at most 1000)."""
        found: list[Installation] = []
        page: int | None = 1
        while page is not None and page <= _MAX_INSTALLATION_PAGES:
            response = await self._http.get("/user/installations", {"page": page, "per_page": 100})
            body = self._http.decode(response, GhInstallations)
            found.extend(filter(None, map(_installation, body.installations)))
            following = page_param(_next(response))
            page = following if following is not None and following > page else None
        return found

    async def list_installation_repositories(
        self, installation_id: str, *, page: int, per_page: int
    ) -> Page[Repository]:
        installation = _installation_id(installation_id)
        response = await self._http.get(
            f"/user/installations/{installation}/repositories",
            {"page": checked_page(page), "per_page": bounded_per_page(per_page)},
            not_found_field="installation_id",
        )
        body = self._http.decode(response, GhInstallationRepositories)
        return Page(
            items=[_repository(r, installation) for r in body.repositories],
            next_page=page_param(_next(response)),
            total=body.total_count,
        )


def _next(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None
