"""GitLab (gitlab.com pointed elsewhere, or a self-hosted instance) in its REST v4 shapes under
``/api/v4``, with the OAuth token endpoint ``/oauth/token``."""

from typing import Any

from domain.git.providers import ProviderKind
from tests.fakes.git_hosts.gitlab_threads import (
    MAINTAINER,
    FakeGitLabThreads,
    FakeMergeRequest,
    GitLabThreadRoutes,
)
from tests.fakes.git_hosts.server import (
    Request,
    basic_credentials,
    iso,
    json_reply,
    link_header,
    paginate,
)
from tests.fakes.git_hosts.smart_http import git_smart_http
from tests.fakes.git_hosts.state import FakeBranch, FakeGitHostState, FakeRepo, Reply

__all__ = ("FakeGitLab",)

_ORDER_KEYS = {
    "id": lambda r: r.id_,
    "name": lambda r: r.name.lower(),
    "path": lambda r: r.name.lower(),
    "created_at": lambda r: r.created_at,
    "updated_at": lambda r: r.updated_at,
    "last_activity_at": lambda r: r.pushed_at,
    "star_count": lambda r: r.stars,
}


def _message(status: int, message: str) -> Reply:
    return json_reply(status, {"message": message})


def _branch_matches(branch: FakeBranch, search: str) -> bool:
    """GitLab's branch ``search``: ``^term`` starts with, ``term$`` ends with, else contains."""
    name, needle = branch.name.lower(), search.lower()
    if needle.startswith("^"):
        return name.startswith(needle[1:])
    if needle.endswith("$"):
        return name.endswith(needle[:-1])
    return needle in name


class FakeGitLab(FakeGitHostState):
    """Also issues and merge requests (notes, award emoji, members) and project webhooks, kept
    in ``threads`` (see ``gitlab_threads``)."""

    kind = ProviderKind.GITLAB
    access_lifetime_s = 7200
    refresh_lifetime_s = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads = FakeGitLabThreads()
        self._thread_routes = GitLabThreadRoutes(self, self.threads)

    def set_access_level(self, repository: str, login: str, level: int) -> None:
        """``login``'s role on the project (10 Guest ... 40 Maintainer, 50 Owner)."""
        with self.threads.lock:
            self.threads.access_levels[repository, login] = level

    def make_maintainer(self, repository: str, login: str) -> None:
        self.set_access_level(repository, login, MAINTAINER)

    def add_merge_request(
        self, repository: str, iid: int, *, source_branch: str, from_fork: bool = False
    ) -> None:
        with self.threads.lock:
            self.threads.merge_requests[repository, iid] = FakeMergeRequest(
                iid=iid, source_branch=source_branch, target_branch="main", from_fork=from_fork
            )

    def _project_json(self, repo: FakeRepo) -> dict[str, Any]:
        kind = "user" if repo.owner_type == "User" else "group"
        return {
            "id": repo.id_,
            "description": None,
            "name": repo.name,
            "name_with_namespace": repo.full_name.replace("/", " / "),
            "path": repo.name,
            "path_with_namespace": repo.full_name,
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "last_activity_at": iso(repo.pushed_at),
            "default_branch": repo.default_branch,
            "visibility": "private" if repo.private else "public",
            "web_url": f"{self.base_url}/{repo.full_name}",
            "star_count": repo.stars,
            "namespace": {
                "id": repo.id_ + 500_000,
                "name": repo.owner.rsplit("/", 1)[-1],
                "path": repo.owner.rsplit("/", 1)[-1],
                "kind": kind,
                "full_path": repo.owner,
            },
        }

    def route(self, request: Request) -> Reply:
        outage = self.outage
        if outage is not None:
            return Reply(outage, b"<html><body>GitLab is not responding</body></html>", "text/html")
        cloned = git_smart_http(self, request)
        if cloned is not None:
            return cloned
        segments = request.segments
        if segments == ["oauth", "token"] and request.method == "POST":
            return self._token(request)
        if segments[:2] != ["api", "v4"]:
            return _message(404, "404 Not Found")
        if self.rate_limited:
            return Reply(
                429,
                b"Retry later",
                "text/plain",
                headers=(("Retry-After", "60"), ("RateLimit-Remaining", "0")),
            )
        account = self.account_for(request.token or request.headers.get("private-token"))
        if account is None:
            return _message(401, "401 Unauthorized")
        if self.malformed:
            return Reply(200, b'{"id": ', "application/json")
        threaded = self._thread_routes.route(request, account, segments[2:])
        if threaded is not None:
            return threaded
        if request.method != "GET":
            return _message(404, "404 Not Found")
        match segments[2:]:
            case ["user"]:
                return json_reply(
                    200,
                    {
                        "id": account.id_,
                        "username": account.login,
                        "name": account.name or account.login,
                        "state": "active",
                        "avatar_url": account.avatar_url,
                        "web_url": f"{self.base_url}/{account.login}",
                        "email": account.email,
                        "public_email": None,
                    },
                )
            case ["projects"]:
                return self._projects(request, account.login)
            case ["projects", ident, "repository", "branches"]:
                return self._branches(request, account.login, ident)
        return _message(404, "404 Not Found")

    def _paged(self, request: Request, items: list[Any]) -> Reply:
        page, per_page = request.int_arg("page", 1), request.int_arg("per_page", 20)
        per_page = max(1, min(100, per_page))
        chunk, next_page, last = paginate(items, page, per_page)
        link = link_header(self.base_url, request, page=page, next_page=next_page, last=last)
        headers = [
            ("X-Page", str(page)),
            ("X-Per-Page", str(per_page)),
            ("X-Next-Page", "" if next_page is None else str(next_page)),
            ("X-Prev-Page", "" if page <= 1 else str(page - 1)),
            ("X-Total", str(len(items))),
            ("X-Total-Pages", str(last)),
            ("Link", link),
        ]
        return json_reply(200, chunk, headers)

    def _projects(self, request: Request, login: str) -> Reply:
        membership = request.arg("membership") == "true"
        repos = self.member_repos(login) if membership else self.visible_repos(login)
        search = (request.arg("search") or "").lower()
        if search:
            repos = [r for r in repos if search in r.name.lower()]
        order_by = request.arg("order_by") or "created_at"
        key = _ORDER_KEYS.get(order_by)
        if key is None:
            return json_reply(400, {"error": "order_by does not have a valid value"})
        descending = (request.arg("sort") or "desc") != "asc"
        ordered = sorted(repos, key=key, reverse=descending)
        return self._paged(request, [self._project_json(r) for r in ordered])

    def _branches(self, request: Request, login: str, ident: str) -> Reply:
        if ident.isdigit():
            matching = [r for r in self.visible_repos(login) if r.id_ == int(ident)]
            repo = matching[0] if matching else None
        else:
            repo = self.readable_repo(login, ident)
        if repo is None:
            return _message(404, "404 Project Not Found")
        search = request.arg("search") or ""
        found = sorted(
            (b for b in repo.branches if not search or _branch_matches(b, search)),
            key=lambda b: b.name,
        )
        items = [
            {
                "name": b.name,
                "commit": {
                    "id": b.sha,
                    "short_id": b.sha[:8],
                    "title": "A commit",
                    "created_at": iso(b.committed_at),
                    "committed_date": iso(b.committed_at),
                    "authored_date": iso(b.committed_at),
                },
                "merged": False,
                "protected": b.protected,
                "developers_can_push": not b.protected,
                "developers_can_merge": not b.protected,
                "can_push": True,
                "default": b.name == repo.default_branch,
                "web_url": f"{self.base_url}/{repo.full_name}/-/tree/{b.name}",
            }
            for b in found
        ]
        return self._paged(request, items)

    def _token(self, request: Request) -> Reply:
        self.count_refresh()
        form = request.body if isinstance(request.body, dict) else {}
        client = basic_credentials(request.headers.get("authorization")) or (
            form.get("client_id"),
            form.get("client_secret"),
        )
        if not self.client_matches(*client):
            return json_reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": (
                        "Client authentication failed due to unknown client, no client "
                        "authentication included, or unsupported authentication method."
                    ),
                },
            )
        if form.get("grant_type") != "refresh_token":
            return json_reply(400, {"error": "unsupported_grant_type"})
        redeemed = self.redeem(str(form.get("refresh_token", "")))
        if redeemed is None:
            return json_reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": (
                        "The provided authorization grant is invalid, expired, revoked, does "
                        "not match the redirection URI used in the authorization request, or "
                        "was issued to another client."
                    ),
                },
            )
        access, refresh, life, _, scopes = redeemed
        return json_reply(
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": life,
                "refresh_token": refresh,
                "scope": scopes,
                "created_at": int(self.now().timestamp()),
            },
        )
