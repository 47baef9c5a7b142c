"""Bitbucket Cloud in its 2.0 API shapes under ``/!api/2.0`` (the alias bitbucket.org serves
too), with the OAuth token endpoint ``/site/oauth2/access_token`` (HTTP Basic client auth)."""

import re
from typing import Any
from urllib.parse import urlencode

from domain.git.providers import ProviderKind
from tests.fakes.git_hosts.bitbucket_threads import (
    BitbucketThreadRoutes,
    FakeBitbucketThreads,
    FakePull,
)
from tests.fakes.git_hosts.server import Request, basic_credentials, iso, json_reply, paginate
from tests.fakes.git_hosts.smart_http import git_smart_http
from tests.fakes.git_hosts.state import FakeGitHostState, FakeRepo, Reply

__all__ = ("FakeBitbucket", "parse_name_filter")

_NAME_FILTER = re.compile(r'^\s*name\s*~\s*"((?:[^"\\]|\\.)*)"\s*$')
_SORT_KEYS = {
    "updated_on": lambda r: r.updated_at,
    "created_on": lambda r: r.created_at,
    "name": lambda r: r.name.lower(),
    "full_name": lambda r: r.full_name.lower(),
}


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"type": "error", "error": {"message": message}})


def parse_name_filter(q: str) -> str | None:
    """The value of a BBQL filter ``name ~ "value"`` (backslash escapes undone); None if ``q``
    is any other filter, which this fake does not speak."""
    found = _NAME_FILTER.match(q)
    if found is None:
        return None
    return re.sub(r"\\(.)", r"\1", found.group(1))


class FakeBitbucket(FakeGitHostState):
    """Also issues and pull requests (comments, permissions) and repository webhooks, kept in
    ``threads`` (see ``bitbucket_threads``)."""

    kind = ProviderKind.BITBUCKET
    access_lifetime_s = 7200
    refresh_lifetime_s = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads = FakeBitbucketThreads()
        self._thread_routes = BitbucketThreadRoutes(self, self.threads)

    def set_permission(self, repository: str, login: str, permission: str) -> None:
        """``login``'s permission on the repository: ``admin``, ``write`` or ``read``."""
        with self.threads.lock:
            self.threads.permissions[repository, login] = permission

    def add_pull_request(
        self, repository: str, number: int, *, source_branch: str, from_fork: bool = False
    ) -> None:
        with self.threads.lock:
            self.threads.pulls[repository, number] = FakePull(
                number=number, source_branch=source_branch, from_fork=from_fork
            )

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        account = self._accounts.get(repo.owner)
        body: dict[str, Any] = {
            "type": "repository",
            "uuid": f"{{repo-{repo.id_}}}",
            "full_name": repo.full_name,
            "name": repo.name,
            "slug": repo.name,
            "is_private": repo.private,
            "created_on": iso(repo.created_at),
            "updated_on": iso(repo.updated_at),
            "size": 1024,
            "language": "",
            "owner": {
                "type": "user" if repo.owner_type == "User" else "team",
                "display_name": account.name if account and account.name else repo.owner,
                "uuid": f"{{account-{account.id_ if account else 0}}}",
                "username": repo.owner,
            },
            "workspace": {"type": "workspace", "slug": repo.owner, "name": repo.owner},
            "links": {"html": {"href": f"{self.base_url}/{repo.full_name}"}},
        }
        if repo.default_branch:  # Bitbucket's description has no null: none is left out
            body["mainbranch"] = {"type": "branch", "name": repo.default_branch}
        return body

    def route(self, request: Request) -> Reply:
        outage = self.outage
        if outage is not None:
            return Reply(outage, b"<html><body>Something went wrong</body></html>", "text/html")
        cloned = git_smart_http(self, request)
        if cloned is not None:
            return cloned
        segments = request.segments
        if segments == ["site", "oauth2", "access_token"] and request.method == "POST":
            return self._token(request)
        if segments[:2] != ["!api", "2.0"]:
            return _error(404, "Resource not found")
        if self.rate_limited:
            return _error(429, "Rate limit for this resource has been exceeded")
        basic = basic_credentials(request.headers.get("authorization"))
        account = (
            self.account_for_app_password(*basic)
            if basic is not None
            else self.account_for(request.token)
        )
        if account is None:
            return _error(401, "Token is invalid or not supported for this endpoint.")
        if self.malformed:
            return Reply(200, b"\x00garbage", "application/json")
        threaded = self._thread_routes.route(request, account, segments[2:])
        if threaded is not None:
            return threaded
        if request.method != "GET":
            return _error(404, "Resource not found")
        match segments[2:]:
            case ["user"]:
                return json_reply(
                    200,
                    {
                        "type": "user",
                        "uuid": f"{{account-{account.id_}}}",
                        "account_id": f"557058:{account.id_}",
                        "username": account.login,
                        "nickname": account.login,
                        "display_name": account.name or account.login,
                        "links": {
                            "avatar": {
                                "href": account.avatar_url
                                or f"{self.base_url}/account/{account.login}/avatar/"
                            },
                            "html": {"href": f"{self.base_url}/{account.login}/"},
                        },
                        "created_on": "2025-01-01T00:00:00.000000+00:00",
                    },
                )
            case ["user", "emails"]:
                return self._paged(
                    request,
                    [
                        {
                            "type": "email",
                            "email": account.email,
                            "is_primary": True,
                            "is_confirmed": True,
                        }
                    ]
                    if account.email
                    else [],
                )
            case ["repositories"]:
                return self._repositories(request, account.login)
            case ["repositories", workspace, slug, "refs", "branches"]:
                return self._branches(request, account.login, f"{workspace}/{slug}")
        return _error(404, "Resource not found")

    def _paged(self, request: Request, items: list[Any]) -> Reply:
        page, pagelen = request.int_arg("page", 1), request.int_arg("pagelen", 10)
        pagelen = max(1, min(100, pagelen))
        chunk, next_page, _ = paginate(items, page, pagelen)
        body: dict[str, Any] = {"pagelen": pagelen, "size": len(items), "page": page}
        body["values"] = chunk

        def url(number: int) -> str:
            query = {k: v[0] for k, v in request.query.items()} | {"page": str(number)}
            return f"{self.base_url}{request.raw_path}?{urlencode(query)}"

        if next_page is not None:
            body["next"] = url(next_page)
        if page > 1:
            body["previous"] = url(page - 1)
        return json_reply(200, body)

    def _name_filter(self, request: Request) -> tuple[str | None, Reply | None]:
        q = request.arg("q")
        if not q:
            return None, None
        needle = parse_name_filter(q)
        if needle is None:
            return None, _error(400, f"Invalid field name or unsupported query: {q}")
        return needle.lower(), None

    def _repositories(self, request: Request, login: str) -> Reply:
        role = request.arg("role")
        repos = self.member_repos(login) if role == "member" else self.visible_repos(login)
        needle, refused = self._name_filter(request)
        if refused is not None:
            return refused
        if needle is not None:
            repos = [r for r in repos if needle in r.name.lower()]
        sort = request.arg("sort") or "created_on"
        key = _SORT_KEYS.get(sort.lstrip("-"))
        if key is None:
            return _error(400, f"Invalid sort field: {sort}")
        ordered = sorted(repos, key=key, reverse=sort.startswith("-"))
        return self._paged(request, [self._repo_json(r) for r in ordered])

    def _branches(self, request: Request, login: str, full_name: str) -> Reply:
        repo = self.readable_repo(login, full_name)
        if repo is None:
            return _error(
                404,
                "You may not have access to this repository or it no longer exists in this "
                "workspace. If you think this repository exists and you have access, make sure "
                "you are authenticated.",
            )
        needle, refused = self._name_filter(request)
        if refused is not None:
            return refused
        found = sorted(
            (b for b in repo.branches if needle is None or needle in b.name.lower()),
            key=lambda b: b.name,
        )
        items = [
            {
                "type": "branch",
                "name": b.name,
                "target": {"type": "commit", "hash": b.sha, "date": iso(b.committed_at)},
                "links": {"html": {"href": f"{self.base_url}/{full_name}/branch/{b.name}"}},
            }
            for b in found
        ]
        return self._paged(request, items)

    def _token(self, request: Request) -> Reply:
        self.count_refresh()
        form = request.body if isinstance(request.body, dict) else {}
        client = basic_credentials(request.headers.get("authorization"))
        if client is None or not self.client_matches(*client):
            return json_reply(
                400,
                {
                    "error": "invalid_client",
                    "error_description": "Invalid OAuth client credentials",
                },
            )
        if form.get("grant_type") != "refresh_token":
            return json_reply(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
            )
        redeemed = self.redeem(str(form.get("refresh_token", "")))
        if redeemed is None:
            return json_reply(
                400, {"error": "invalid_grant", "error_description": "Invalid refresh_token"}
            )
        access, refresh, life, _, _ = redeemed
        return json_reply(
            200,
            {
                "access_token": access,
                "scopes": "account repository pullrequest",
                "expires_in": life,
                "refresh_token": refresh,
                "token_type": "bearer",
                "state": "refresh_token",
            },
        )
