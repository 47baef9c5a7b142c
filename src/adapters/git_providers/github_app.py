"""A GitHub App: its JWT (RS256, signed with the app's private key), the installation tokens it
mints, and what it does on issues and pull requests with one of them."""

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from adapters.git_providers.http import ProviderHttp, repository_segments
from application.errors import DependencyUnavailableError
from application.ports.git_app import GitApp, IssueThreads, RepositoryPermission
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.resolver.entities import InstallationToken
from domain.resolver.triggers import EventSender, ThreadRef
from domain.shared.errors import NotFoundError

__all__ = ("GitHubApp", "GitHubIssueThreads", "app_jwt")

_API_VERSION = "2022-11-28"
_JWT_BACKDATE = timedelta(seconds=60)
_JWT_LIFETIME = timedelta(minutes=9)
"""GitHub takes an app JWT that expires within 10 minutes; its clock may run a little ahead."""


class _AccessToken(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    expires_at: datetime


class _Permission(msgspec.Struct, frozen=True, kw_only=True):
    permission: str
    role_name: str | None = None


class _Comment(msgspec.Struct, frozen=True, kw_only=True):
    id: int


class _HeadRepo(msgspec.Struct, frozen=True, kw_only=True):
    full_name: str


class _Head(msgspec.Struct, frozen=True, kw_only=True):
    ref: str
    repo: _HeadRepo | None = None


class _PullRequest(msgspec.Struct, frozen=True, kw_only=True):
    head: _Head


def _headers(bearer: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {bearer}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": _API_VERSION,
    }


def app_jwt(app_id: str, private_key: RSAKey, now: datetime) -> str:
    """The app's own token: issued a minute back (for clock drift), valid 9 minutes."""
    issued = int((now - _JWT_BACKDATE).timestamp())
    expires = int((now + _JWT_LIFETIME).timestamp())
    return jwt.encode(
        {"alg": "RS256", "typ": "JWT"},
        {"iat": issued, "exp": expires, "iss": app_id},
        private_key,
    )


class GitHubApp(GitApp):
    """The app at one GitHub (github.com or an Enterprise Server), identified by its app id
    (or client id) and private key; ``now`` reads the time for its JWT."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_url: str,
        app_id: str,
        private_key_pem: str,
        now: Callable[[], datetime],
    ) -> None:
        try:
            self._key = RSAKey.import_key(private_key_pem)
        except (JoseError, ValueError) as exc:
            raise ValueError("the GitHub App's private key is not an RSA key in PEM") from exc
        self._client = client
        self._api_url = api_url
        self._app_id = app_id
        self._now = now

    async def mint_token(self, installation_id: str) -> InstallationToken:
        if not installation_id.isdigit():
            raise NotFoundError("GitHub has no such installation.", field="installation_id")
        http = ProviderHttp(
            self._client,
            GitHost(ProviderKind.GITHUB),
            api_url=self._api_url,
            headers=_headers(app_jwt(self._app_id, self._key, self._now())),
        )
        try:
            response = await http.send(
                "POST",
                f"{self._api_url}/app/installations/{installation_id}/access_tokens",
                not_found_field="installation_id",
            )
        except ProviderReconnectRequiredError:  # the app's id or key is not GitHub's
            raise DependencyUnavailableError("GitHub refused the app's credentials.") from None
        minted = http.decode(response, _AccessToken)
        return InstallationToken(token=minted.token, expires_at=minted.expires_at)


class GitHubIssueThreads(IssueThreads):
    """Issues and pull requests through GitHub's REST API with an installation token."""

    def __init__(self, client: httpx.AsyncClient, host: GitHost, *, api_url: str, token: str):
        self._http = ProviderHttp(client, host, api_url=api_url, headers=_headers(token))

    def _repo(self, repository: str) -> str:
        return "/".join(repository_segments(repository, max_segments=2))

    async def permission(self, repository: str, sender: EventSender) -> RepositoryPermission:
        repo = self._repo(repository)
        try:
            response = await self._http.get(
                f"/repos/{repo}/collaborators/{sender.login}/permission", repository=repository
            )
        except NotFoundError:
            return RepositoryPermission.NONE
        found = self._http.decode(response, _Permission)
        for name in (found.role_name, found.permission):
            if name in {p.value for p in RepositoryPermission}:
                return RepositoryPermission(name)
        return RepositoryPermission.NONE

    async def react(self, thread: ThreadRef, comment_id: str | None, *, review: bool) -> None:
        repo = self._repo(thread.repository)
        if comment_id is None:
            path = f"/repos/{repo}/issues/{thread.number}/reactions"
        elif review:
            path = f"/repos/{repo}/pulls/comments/{comment_id}/reactions"
        else:
            path = f"/repos/{repo}/issues/comments/{comment_id}/reactions"
        await self._http.send(
            "POST",
            f"{self._http.api_url}{path}",
            json={"content": "eyes"},
            repository=thread.repository,
        )

    async def comment(self, thread: ThreadRef, body: str) -> str:
        repo = self._repo(thread.repository)
        response = await self._http.send(
            "POST",
            f"{self._http.api_url}/repos/{repo}/issues/{thread.number}/comments",
            json={"body": body},
            repository=thread.repository,
        )
        return str(self._http.decode(response, _Comment).id)

    async def head_branch(self, thread: ThreadRef) -> str | None:
        if not thread.is_pull_request:
            return None
        repo = self._repo(thread.repository)
        response = await self._http.get(
            f"/repos/{repo}/pulls/{thread.number}", repository=thread.repository
        )
        head = self._http.decode(response, _PullRequest).head
        if head.repo is None or head.repo.full_name.lower() != thread.repository.lower():
            return None
        return head.ref
