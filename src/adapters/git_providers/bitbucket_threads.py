"""Bitbucket Cloud's issues and pull requests (comments, permissions) and repository webhooks,
through the token of the user who enabled the resolver on the repository."""

import re
from urllib.parse import quote

import httpx
import msgspec

from adapters.git_providers.bitbucket import authorization
from adapters.git_providers.http import ProviderHttp, repository_segments
from application.ports.git_app import IssueThreads, RepositoryHooks, RepositoryPermission
from domain.git.providers import GitHost
from domain.resolver.triggers import EventSender, ThreadRef
from domain.shared.errors import InvalidValueError, NotFoundError

__all__ = ("BitbucketHooks", "BitbucketIssueThreads")

_EVENTS = ("issue:comment_created", "pullrequest:comment_created")
_UUID = re.compile(r"\{[A-Za-z0-9-]{1,64}\}")
"""A Bitbucket UUID as it names users and webhooks (``{...}``)."""


class _Permission(msgspec.Struct, frozen=True, kw_only=True):
    permission: str


class _Permissions(msgspec.Struct, frozen=True, kw_only=True):
    values: list[_Permission] = msgspec.field(default_factory=list)


class _Comment(msgspec.Struct, frozen=True, kw_only=True):
    id: int


class _Hook(msgspec.Struct, frozen=True, kw_only=True):
    uuid: str
    url: str | None = None


class _Hooks(msgspec.Struct, frozen=True, kw_only=True):
    values: list[_Hook] = msgspec.field(default_factory=list)


class _BranchName(msgspec.Struct, frozen=True, kw_only=True):
    name: str


class _Repo(msgspec.Struct, frozen=True, kw_only=True):
    full_name: str


class _End(msgspec.Struct, frozen=True, kw_only=True):
    branch: _BranchName
    repository: _Repo | None = None


class _PullRequest(msgspec.Struct, frozen=True, kw_only=True):
    source: _End


def _repo(repository: str) -> str:
    workspace, slug = repository_segments(repository, max_segments=2)
    return f"/repositories/{quote(workspace)}/{quote(slug)}"


def _http(client: httpx.AsyncClient, host: GitHost, api_url: str, token: str) -> ProviderHttp:
    return ProviderHttp(
        client, host, api_url=api_url, headers={"Authorization": authorization(token)}
    )


class BitbucketIssueThreads(IssueThreads):
    """Issues and pull requests through Bitbucket Cloud's 2.0 API. Bitbucket has no reactions
    on comments: a trigger is marked seen by the reply alone."""

    def __init__(self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str):
        self._http = _http(client, host, api_url, token)

    def _thread(self, thread: ThreadRef) -> str:
        kind = "pullrequests" if thread.is_pull_request else "issues"
        return f"{_repo(thread.repository)}/{kind}/{thread.number}"

    async def permission(self, repository: str, sender: EventSender) -> RepositoryPermission:
        workspace, slug = repository_segments(repository, max_segments=2)
        if not _UUID.fullmatch(sender.account_id):
            return RepositoryPermission.NONE
        try:
            response = await self._http.get(
                f"/workspaces/{quote(workspace)}/permissions/repositories/{quote(slug)}",
                {"q": f'user.uuid="{sender.account_id}"'},
                repository=repository,
            )
        except NotFoundError:
            return RepositoryPermission.NONE
        found = {p.permission for p in self._http.decode(response, _Permissions).values}
        for permission in (
            RepositoryPermission.ADMIN,
            RepositoryPermission.WRITE,
            RepositoryPermission.READ,
        ):
            if permission.value in found:
                return permission
        return RepositoryPermission.NONE

    async def react(self, thread: ThreadRef, comment_id: str | None, *, review: bool) -> None:
        return None

    async def comment(self, thread: ThreadRef, body: str) -> str:
        response = await self._http.send(
            "POST",
            f"{self._http.api_url}{self._thread(thread)}/comments",
            json={"content": {"raw": body}},
            repository=thread.repository,
        )
        if not response.content:  # the description documents an issue comment's by Location
            return str(response.headers.get("location", "")).rstrip("/").rsplit("/", 1)[-1]
        return str(self._http.decode(response, _Comment).id)

    async def head_branch(self, thread: ThreadRef) -> str | None:
        if not thread.is_pull_request:
            return None
        response = await self._http.get(self._thread(thread), repository=thread.repository)
        source = self._http.decode(response, _PullRequest).source
        if source.repository is None or (
            source.repository.full_name.lower() != thread.repository.lower()
        ):
            return None
        return source.branch.name


class BitbucketHooks(RepositoryHooks):
    """Repository webhooks (``/repositories/{workspace}/{slug}/hooks``) for issue and pull
    request comments, signed with the secret (``X-Hub-Signature: sha256=...``)."""

    def __init__(self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str):
        self._http = _http(client, host, api_url, token)

    async def install(self, repository: str, url: str, secret: str, *, group: bool) -> str:
        if group:
            raise InvalidValueError("Bitbucket has no group webhooks.", field="group")
        response = await self._http.send(
            "POST",
            f"{self._http.api_url}{_repo(repository)}/hooks",
            json={
                "description": "Maestrist resolver",
                "url": url,
                "active": True,
                "secret": secret,
                "events": list(_EVENTS),
            },
            repository=repository,
        )
        return self._http.decode(response, _Hook).uuid

    async def find(self, repository: str, url: str, *, group: bool) -> str | None:
        if group:
            return None
        response = await self._http.get(
            f"{_repo(repository)}/hooks", {"pagelen": 100}, repository=repository
        )
        found = self._http.decode(response, _Hooks).values
        return next((h.uuid for h in found if h.url == url), None)

    async def remove(self, repository: str, hook_id: str, *, group: bool) -> None:
        if not _UUID.fullmatch(hook_id):
            return
        try:
            await self._http.send(
                "DELETE",
                f"{self._http.api_url}{_repo(repository)}/hooks/{quote(hook_id)}",
                repository=repository,
            )
        except NotFoundError:
            return
