"""GitLab's issues and merge requests (notes, award emoji, members) and project webhooks,
through the token of the user who enabled the resolver on the project."""

from urllib.parse import quote

import httpx
import msgspec

from adapters.git_providers.http import ProviderHttp, repository_segments
from application.ports.git_app import IssueThreads, RepositoryHooks, RepositoryPermission
from domain.git.providers import GitHost
from domain.resolver.triggers import EventSender, ThreadRef
from domain.shared.errors import NotFoundError

__all__ = ("GitLabHooks", "GitLabIssueThreads")

_MAX_DEPTH = 21
_LEVELS = (
    (50, RepositoryPermission.ADMIN),
    (40, RepositoryPermission.MAINTAIN),
    (30, RepositoryPermission.WRITE),
    (20, RepositoryPermission.TRIAGE),
    (10, RepositoryPermission.READ),
)
"""GitLab's access levels: Owner, Maintainer, Developer, Reporter, Guest."""


class _Member(msgspec.Struct, frozen=True, kw_only=True):
    access_level: int


class _Created(msgspec.Struct, frozen=True, kw_only=True):
    id: int


class _Hook(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    url: str


class _MergeRequest(msgspec.Struct, frozen=True, kw_only=True):
    source_branch: str
    source_project_id: int | None = None
    target_project_id: int | None = None


def _project(repository: str) -> str:
    repository_segments(repository, max_segments=_MAX_DEPTH)
    return f"/projects/{quote(repository, safe='')}"


def _hooked(path: str, *, group: bool) -> str:
    """A project's, or a group's (``/groups/:id``, a top-level one a single segment)."""
    if not group:
        return _project(path)
    repository_segments(f"{path}/-", max_segments=_MAX_DEPTH)
    return f"/groups/{quote(path, safe='')}"


def _http(client: httpx.AsyncClient, host: GitHost, api_url: str, token: str) -> ProviderHttp:
    return ProviderHttp(client, host, api_url=api_url, headers={"Authorization": f"Bearer {token}"})


class GitLabIssueThreads(IssueThreads):
    """Issues and merge requests through GitLab's REST v4 API; a project is addressed by its
    URL-encoded full path, an issue or merge request by its ``iid``."""

    def __init__(self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str):
        self._http = _http(client, host, api_url, token)

    def _thread(self, thread: ThreadRef) -> str:
        kind = "merge_requests" if thread.is_pull_request else "issues"
        return f"{_project(thread.repository)}/{kind}/{thread.number}"

    async def permission(self, repository: str, sender: EventSender) -> RepositoryPermission:
        if not sender.account_id.isdigit():
            return RepositoryPermission.NONE
        try:
            response = await self._http.get(
                f"{_project(repository)}/members/all/{sender.account_id}", repository=repository
            )
        except NotFoundError:
            return RepositoryPermission.NONE
        level = self._http.decode(response, _Member).access_level
        return next((p for floor, p in _LEVELS if level >= floor), RepositoryPermission.NONE)

    async def react(self, thread: ThreadRef, comment_id: str | None, *, review: bool) -> None:
        path = self._thread(thread)
        if comment_id is not None:
            path += f"/notes/{quote(comment_id, safe='')}"
        response = await self._http.send(
            "POST",
            f"{self._http.api_url}{path}/award_emoji",
            json={"name": "eyes"},
            repository=thread.repository,
            allowed=frozenset({400, 404}),
        )
        if response.status_code in {400, 404} and b"already been taken" not in response.content:
            self._http.check(response, repository=thread.repository, not_found_field="repository")

    async def comment(self, thread: ThreadRef, body: str) -> str:
        response = await self._http.send(
            "POST",
            f"{self._http.api_url}{self._thread(thread)}/notes",
            json={"body": body},
            repository=thread.repository,
        )
        return str(self._http.decode(response, _Created).id)

    async def head_branch(self, thread: ThreadRef) -> str | None:
        if not thread.is_pull_request:
            return None
        response = await self._http.get(self._thread(thread), repository=thread.repository)
        merge_request = self._http.decode(response, _MergeRequest)
        if merge_request.source_project_id != merge_request.target_project_id:
            return None  # from a fork
        return merge_request.source_branch


class GitLabHooks(RepositoryHooks):
    """Project webhooks (``/projects/:id/hooks``), or a group's (``/groups/:id/hooks``, on
    GitLab's Premium tiers): issue, merge request and note events, the secret as the hook's
    token (GitLab sends it back in ``X-Gitlab-Token``)."""

    def __init__(self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str):
        self._http = _http(client, host, api_url, token)

    async def install(self, repository: str, url: str, secret: str, *, group: bool) -> str:
        response = await self._http.send(
            "POST",
            f"{self._http.api_url}{_hooked(repository, group=group)}/hooks",
            json={
                "url": url,
                "token": secret,
                "issues_events": True,
                "merge_requests_events": True,
                "note_events": True,
                "push_events": False,
                "enable_ssl_verification": url.startswith("https://"),
            },
            repository=repository,
        )
        return str(self._http.decode(response, _Created).id)

    async def find(self, repository: str, url: str, *, group: bool) -> str | None:
        response = await self._http.get(
            f"{_hooked(repository, group=group)}/hooks",
            {"per_page": 100},
            repository=repository,
        )
        found = self._http.decode(response, list[_Hook])
        return next((str(h.id) for h in found if h.url == url), None)

    async def remove(self, repository: str, hook_id: str, *, group: bool) -> None:
        if not hook_id.isdigit():
            return
        try:
            await self._http.send(
                "DELETE",
                f"{self._http.api_url}{_hooked(repository, group=group)}/hooks/{hook_id}",
                repository=repository,
            )
        except NotFoundError:
            return
