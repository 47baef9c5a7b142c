from typing import Any
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
from adapters.git_providers.payloads import GlBranch, GlProject, GlUser
from application.ports.git_provider import GitProvider
from domain.git.entities import Branch, GitAccount, Page, Repository, RepoSort
from domain.git.providers import GitHost, ProviderKind

__all__ = ("GitLabProvider",)

_ORDER = {
    RepoSort.PUSHED: ("last_activity_at", "desc"),
    RepoSort.UPDATED: ("updated_at", "desc"),
    RepoSort.CREATED: ("created_at", "desc"),
    RepoSort.NAME: ("name", "asc"),
}
_MAX_DEPTH = 21
"""GitLab nests groups 20 deep, and the project comes last."""


def _project(raw: GlProject) -> Repository:
    kind = raw.namespace.kind if raw.namespace else None
    return Repository(
        provider=ProviderKind.GITLAB,
        id_=str(raw.id),
        full_name=raw.path_with_namespace,
        is_private=raw.visibility != "public",
        default_branch=raw.default_branch,
        pushed_at=raw.last_activity_at,
        owner_type=None if kind is None else ("organization" if kind == "group" else "user"),
        stars=raw.star_count,
    )


def _next_page(response: httpx.Response) -> int | None:
    """``X-Next-Page`` (empty on the last page); ``Link`` where GitLab leaves counts out."""
    header = response.headers.get("x-next-page")
    if header is not None:
        return int(header) if header.strip().isdigit() else None
    link = response.links.get("next")
    return page_param(link.get("url") if link else None)


def _total(response: httpx.Response) -> int | None:
    header = response.headers.get("x-total", "")
    return int(header) if header.strip().isdigit() else None


class GitLabProvider(GitProvider):
    """GitLab's REST v4 API (gitlab.com or self-managed) with one user's token. Projects are the
    user's memberships; a project is addressed by its URL-encoded full path. Branch search asks
    GitLab (``search=``) and keeps the names that contain the text, since GitLab reads a leading
    ``^`` or trailing ``$`` as an anchor."""

    def __init__(
        self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str
    ) -> None:
        self._http = ProviderHttp(
            client, host, api_url=api_url, headers={"Authorization": f"Bearer {token}"}
        )

    @property
    def host(self) -> GitHost:
        return self._http.host

    async def get_account(self) -> GitAccount:
        user = self._http.decode(await self._http.get("/user"), GlUser)
        return GitAccount(
            provider=ProviderKind.GITLAB,
            id_=str(user.id),
            login=user.username,
            name=user.name,
            email=user.email or user.public_email,
            avatar_url=user.avatar_url,
        )

    async def _projects(self, params: dict[str, Any]) -> Page[Repository]:
        response = await self._http.get("/projects", params)
        projects = self._http.decode(response, list[GlProject])
        return Page(
            items=[_project(p) for p in projects],
            next_page=_next_page(response),
            total=_total(response),
        )

    def _listing(self, page: int, per_page: int, sort: RepoSort) -> dict[str, Any]:
        order_by, direction = _ORDER[sort]
        return {
            "membership": "true",
            "order_by": order_by,
            "sort": direction,
            "page": checked_page(page),
            "per_page": bounded_per_page(per_page),
        }

    async def list_repositories(
        self, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        return await self._projects(self._listing(page, per_page, sort))

    async def search_repositories(
        self, query: str, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        params = self._listing(page, per_page, sort) | {"search": checked_query(query)}
        return await self._projects(params)

    def _branches_path(self, repository: str) -> str:
        repository_segments(repository, max_segments=_MAX_DEPTH)
        return f"/projects/{quote(repository, safe='')}/repository/branches"

    async def list_branches(self, repository: str, *, page: int, per_page: int) -> Page[Branch]:
        path = self._branches_path(repository)
        response = await self._http.get(
            path,
            {"page": checked_page(page), "per_page": bounded_per_page(per_page)},
            repository=repository,
        )
        branches = self._http.decode(response, list[GlBranch])
        return Page(
            items=[_branch(b) for b in branches],
            next_page=_next_page(response),
            total=_total(response),
        )

    async def search_branches(self, repository: str, query: str, *, per_page: int) -> list[Branch]:
        path = self._branches_path(repository)
        text = checked_query(query)
        response = await self._http.get(
            path,
            {"search": text, "page": 1, "per_page": bounded_per_page(per_page)},
            repository=repository,
        )
        branches = self._http.decode(response, list[GlBranch])
        return [_branch(b) for b in branches if contains(b.name, text)]


def _branch(raw: GlBranch) -> Branch:
    return Branch(
        name=raw.name,
        commit_sha=raw.commit.id if raw.commit else None,
        protected=raw.protected,
        last_commit_at=raw.commit.committed_date if raw.commit else None,
    )
