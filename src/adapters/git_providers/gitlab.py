from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from adapters.git_providers.http import page_param, repository_segments
from adapters.git_providers.paged_rest import PagedRestProvider
from adapters.git_providers.payloads import GlBranch, GlProject, GlUser
from domain.git.entities import Branch, GitAccount, Page, Repository, RepoSort
from domain.git.providers import GitHost, ProviderKind

__all__ = ("GitLabProvider",)

T = TypeVar("T")

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


def _branch(raw: GlBranch) -> Branch:
    return Branch(
        name=raw.name,
        commit_sha=raw.commit.id if raw.commit else None,
        protected=raw.protected,
        last_commit_at=raw.commit.committed_date if raw.commit else None,
    )


def _page(response: httpx.Response, items: list[T]) -> Page[T]:
    """The next page from ``X-Next-Page`` (empty on the last page), or from ``Link`` where
    GitLab leaves counts out; the total from ``X-Total``."""
    header = response.headers.get("x-next-page")
    if header is not None:
        next_page = int(header) if header.strip().isdigit() else None
    else:
        link = response.links.get("next")
        next_page = page_param(link.get("url") if link else None)
    total = response.headers.get("x-total", "")
    return Page(
        items=items, next_page=next_page, total=int(total) if total.strip().isdigit() else None
    )


class GitLabProvider(PagedRestProvider):
    """GitLab's REST v4 API (gitlab.com or self-managed) with one user's token. Projects are the
    user's memberships; a project is addressed by its URL-encoded full path. Name filters are
    GitLab's ``search=``, which reads a leading ``^`` or trailing ``$`` as an anchor."""

    repositories_path = "/projects"
    per_page_param = "per_page"

    def __init__(
        self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str
    ) -> None:
        super().__init__(client, host, api_url=api_url, authorization=f"Bearer {token}")

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

    def _listing(self, sort: RepoSort) -> dict[str, Any]:
        order_by, direction = _ORDER[sort]
        return {"membership": "true", "order_by": order_by, "sort": direction}

    def _name_filter(self, text: str) -> dict[str, Any]:
        return {"search": text}

    def _branches_path(self, repository: str) -> str:
        repository_segments(repository, max_segments=_MAX_DEPTH)
        return f"/projects/{quote(repository, safe='')}/repository/branches"

    def _repository_page(self, response: httpx.Response) -> Page[Repository]:
        projects = self._http.decode(response, list[GlProject])
        return _page(response, [_project(p) for p in projects])

    def _branch_page(self, response: httpx.Response) -> Page[Branch]:
        branches = self._http.decode(response, list[GlBranch])
        return _page(response, [_branch(b) for b in branches])
