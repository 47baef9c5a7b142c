"""GitHub (github.com pointed elsewhere, or GitHub Enterprise Server) in its REST v3 and GraphQL
shapes. The REST API lives under ``/api/v3`` and GraphQL at ``/api/graphql``, as on an
Enterprise server; the OAuth token endpoint is ``/login/oauth/access_token``."""

import time
from typing import Any
from urllib.parse import urlencode

from domain.git.providers import ProviderKind
from tests.fakes.git_hosts.github_app import (
    FakeGitHubApp,
    FakePullRequest,
    GitHubAppRoutes,
    app_key_pair,
)
from tests.fakes.git_hosts.server import (
    Request,
    iso,
    json_reply,
    link_header,
    paginate,
)
from tests.fakes.git_hosts.smart_http import git_smart_http
from tests.fakes.git_hosts.state import FakeGitHostState, FakeInstallation, FakeRepo, Reply

__all__ = ("FakeGitHub",)

_DOCS = "https://docs.github.com/rest"
_REPO_URLS = {
    "archive": "{archive_format}{/ref}",
    "assignees": "assignees{/user}",
    "blobs": "git/blobs{/sha}",
    "branches": "branches{/branch}",
    "collaborators": "collaborators{/collaborator}",
    "comments": "comments{/number}",
    "commits": "commits{/sha}",
    "compare": "compare/{base}...{head}",
    "contents": "contents/{+path}",
    "contributors": "contributors",
    "deployments": "deployments",
    "downloads": "downloads",
    "events": "events",
    "forks": "forks",
    "git_commits": "git/commits{/sha}",
    "git_refs": "git/refs{/sha}",
    "git_tags": "git/tags{/sha}",
    "hooks": "hooks",
    "issue_comment": "issues/comments{/number}",
    "issue_events": "issues/events{/number}",
    "issues": "issues{/number}",
    "keys": "keys{/key_id}",
    "labels": "labels{/name}",
    "languages": "languages",
    "merges": "merges",
    "milestones": "milestones{/number}",
    "notifications": "notifications{?since,all,participating}",
    "pulls": "pulls{/number}",
    "releases": "releases{/id}",
    "stargazers": "stargazers",
    "statuses": "statuses/{sha}",
    "subscribers": "subscribers",
    "subscription": "subscription",
    "tags": "tags",
    "teams": "teams",
    "trees": "git/trees{/sha}",
}
"""The templated links of a ``repository``, relative to its API URL."""
_SORT_KEYS = {
    "created": lambda r: r.created_at,
    "updated": lambda r: r.updated_at,
    "pushed": lambda r: r.pushed_at,
    "full_name": lambda r: r.full_name.lower(),
}


def _error(status: int, message: str) -> Reply:
    return json_reply(
        status, {"message": message, "documentation_url": _DOCS, "status": str(status)}
    )


class FakeGitHub(FakeGitHostState):
    kind = ProviderKind.GITHUB
    access_lifetime_s = 28800
    refresh_lifetime_s = 15811200

    # ---- JSON shapes (as GitHub's REST description has them) ------------------------------

    @property
    def _api(self) -> str:
        return f"{self.base_url}/api/v3"

    def _simple_user_json(self, login: str) -> dict[str, Any]:
        """A ``simple-user``: an account as it appears inside other answers."""
        account = self._accounts.get(login)
        identity = account.id_ if account else 0
        api = f"{self._api}/users/{login}"
        return {
            "login": login,
            "id": identity,
            "node_id": f"U_{identity}",
            "avatar_url": (account.avatar_url if account else None)
            or f"https://avatars.example/u/{identity}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.base_url}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Organization" if account is None or account.organization else "User",
            "site_admin": False,
        }

    def _organization_json(self, login: str) -> dict[str, Any]:
        """An ``organization-simple``, as ``/user/orgs`` lists them."""
        account = self._accounts.get(login)
        identity = account.id_ if account else 0
        api = f"{self._api}/orgs/{login}"
        return {
            "login": login,
            "id": identity,
            "node_id": f"O_{identity}",
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": (account.avatar_url if account else None)
            or f"https://avatars.example/u/{identity}",
            "description": None,
        }

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        """A ``repository``; ``default_branch`` names the branch a first push creates when
        the repository has none yet, as GitHub does."""
        owner = self._simple_user_json(repo.owner)
        owner["type"] = repo.owner_type
        api = f"{self._api}/repos/{repo.full_name}"
        web = f"{self.base_url}/{repo.full_name}"
        urls = {f"{name}_url": f"{api}/{suffix}" for name, suffix in _REPO_URLS.items()}
        return {
            "id": repo.id_,
            "node_id": f"R_{repo.id_}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": owner,
            "html_url": web,
            "description": None,
            "fork": False,
            "url": api,
            **urls,
            "git_url": f"{web}.git".replace("http://", "git://", 1),
            "ssh_url": f"git@{self.base_url.removeprefix('http://')}:{repo.full_name}.git",
            "clone_url": f"{web}.git",
            "svn_url": web,
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "size": 0,
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "pushed_at": iso(repo.pushed_at),
            "stargazers_count": repo.stars,
            "watchers_count": repo.stars,
            "watchers": repo.stars,
            "forks_count": 0,
            "forks": 0,
            "open_issues_count": 0,
            "open_issues": 0,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "archived": False,
            "disabled": False,
            "license": None,
            "default_branch": repo.default_branch or "main",
            "visibility": "private" if repo.private else "public",
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
        }

    def _enterprise_json(self, slug: str) -> dict[str, Any]:
        """An ``enterprise``, the account of an installation on one: a slug, no login."""
        account = self._accounts.get(slug)
        identity = account.id_ if account else 0
        return {
            "id": identity,
            "node_id": f"E_{identity}",
            "name": (account.name if account else None) or slug,
            "slug": slug,
            "description": None,
            "website_url": None,
            "html_url": f"{self.base_url}/enterprises/{slug}",
            "avatar_url": f"https://avatars.example/b/{identity}",
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
        }

    def _installation_json(self, installation: FakeInstallation) -> dict[str, Any]:
        """An ``installation``; one whose ``account_type`` is ``Enterprise`` is on an
        enterprise."""
        if installation.account_type == "Enterprise":
            account = self._enterprise_json(installation.account_login)
        else:
            account = self._simple_user_json(installation.account_login)
            account["type"] = installation.account_type
        return {
            "id": installation.id_,
            "account": account,
            "app_id": 1,
            "app_slug": "maestrist",
            "target_id": account["id"],
            "target_type": installation.account_type,
            "repository_selection": "selected",
            "access_tokens_url": f"{self._api}/app/installations/{installation.id_}/access_tokens",
            "repositories_url": f"{self._api}/installation/repositories",
            "html_url": f"{self.base_url}/settings/installations/{installation.id_}",
            "permissions": {"contents": "write", "metadata": "read"},
            "events": ["push", "pull_request"],
            "single_file_name": None,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "suspended_by": None,
            "suspended_at": None,
        }

    # ---- the GitHub App ---------------------------------------------------------------------

    github_app: FakeGitHubApp | None = None

    def register_app(self, app_id: str = "4711", slug: str = "maestrist") -> str:
        """Register a GitHub App with this GitHub; its private key, in PEM."""
        pem, public = app_key_pair()
        self.github_app = FakeGitHubApp(app_id=app_id, slug=slug, public_key=public)
        return pem

    def add_pull_request(
        self, full_name: str, number: int, *, head_ref: str, head_repository: str | None = None
    ) -> FakePullRequest:
        assert self.github_app is not None, "register the app first"
        pull = FakePullRequest(
            repository=full_name,
            number=number,
            title=f"Pull request {number}",
            head_ref=head_ref,
            head_repository=head_repository or full_name,
        )
        self.github_app.pulls[full_name, number] = pull
        return pull

    def _app_routes(self) -> GitHubAppRoutes:
        assert self.github_app is not None

        def next_id() -> int:
            with self._lock:
                return next(self._ids)

        def repo_of(full_name: str) -> FakeRepo | None:
            return self._repos.get(full_name)

        return GitHubAppRoutes(
            self.github_app,
            api=lambda: self._api,
            web=lambda: self.base_url,
            now=self.now,
            user_json=self._simple_user_json,
            repo_json=self._repo_json,
            repo_of=repo_of,
            installation_exists=lambda found: found in self._installations,
            account_exists=lambda login: login in self._accounts or login.endswith("[bot]"),
            next_id=next_id,
        )

    # ---- routing ---------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        outage = self.outage
        if outage is not None:
            return Reply(outage, b"<html><body>Unicorn! Server error</body></html>", "text/html")
        cloned = git_smart_http(self, request)
        if cloned is not None:
            return cloned
        segments = request.segments
        if segments == ["login", "oauth", "access_token"] and request.method == "POST":
            return self._token(request)
        if self.github_app is not None and segments[:2] == ["api", "v3"]:
            answered = self._app_routes().route(request)
            if answered is not None:
                return answered
        if segments[:2] == ["api", "graphql"] and request.method == "POST":
            return self._guarded(request, self._graphql)
        if segments[:2] == ["api", "v3"] and request.method == "GET":
            return self._guarded(request, self._rest)
        return _error(404, "Not Found")

    def _guarded(self, request: Request, handler: Any) -> Reply:
        if self.rate_limited:
            reset = str(int(time.time()) + 3600)
            return Reply(
                403,
                b'{"message": "API rate limit exceeded for user ID 1.", '
                b'"documentation_url": "https://docs.github.com/rest/rate-limit"}',
                headers=(
                    ("x-ratelimit-limit", "5000"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", reset),
                    ("x-ratelimit-resource", "core"),
                ),
            )
        account = self.account_for(request.token)
        if account is None:
            return _error(401, "Bad credentials")
        if self.malformed:
            return Reply(200, b"<html>not json", "application/json")
        reply: Reply = handler(request, account.login)
        return reply

    def _rest(self, request: Request, login: str) -> Reply:
        match request.segments[2:]:
            case ["user"]:
                return self._user(login)
            case ["user", "repos"]:
                return self._user_repos(request, login)
            case ["user", "orgs"]:
                orgs = [self._organization_json(a.login) for a in self.organizations_of(login)]
                return self._paged(request, orgs)
            case ["user", "installations"]:
                return self._list_installations(request, login)
            case ["user", "installations", raw_id, "repositories"]:
                return self._installation_repos(request, login, raw_id)
            case ["search", "repositories"]:
                return self._search(request, login)
            case ["repos", owner, name, "branches"]:
                return self._branches(request, login, f"{owner}/{name}")
        return _error(404, "Not Found")

    def _user(self, login: str) -> Reply:
        """The signed-in user as a ``private-user``."""
        account = self._accounts[login]
        owned = [r for r in self.member_repos(login) if r.owner == login]
        private = sum(1 for r in owned if r.private)
        body = self._simple_user_json(login) | {
            "name": account.name,
            "email": account.email,
            "company": None,
            "blog": "",
            "location": None,
            "hireable": None,
            "bio": None,
            "public_repos": len(owned) - private,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "private_gists": 0,
            "total_private_repos": private,
            "owned_private_repos": private,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": False,
            "user_view_type": "private",
        }
        return json_reply(200, body)

    def _paged(self, request: Request, items: list[Any], wrap: Any = None) -> Reply:
        page, per_page = request.int_arg("page", 1), request.int_arg("per_page", 30)
        chunk, next_page, last = paginate(items, page, per_page)
        headers = []
        if last > 1:
            link = link_header(self.base_url, request, page=page, next_page=next_page, last=last)
            headers.append(("Link", link))
        return json_reply(200, chunk if wrap is None else wrap(chunk), headers)

    def _user_repos(self, request: Request, login: str) -> Reply:
        sort = request.arg("sort", "full_name") or "full_name"
        key = _SORT_KEYS.get(sort)
        if key is None:
            return json_reply(422, {"message": "Validation Failed", "documentation_url": _DOCS})
        default = "asc" if sort == "full_name" else "desc"
        descending = (request.arg("direction") or default) == "desc"
        repos = sorted(self.member_repos(login), key=key, reverse=descending)
        return self._paged(request, [self._repo_json(r) for r in repos])

    def _list_installations(self, request: Request, login: str) -> Reply:
        found = [self._installation_json(i) for i in self.installations_of(login)]
        return self._paged(
            request, found, lambda chunk: {"total_count": len(found), "installations": chunk}
        )

    def _installation_repos(self, request: Request, login: str, raw_id: str) -> Reply:
        if not raw_id.isdigit() or int(raw_id) not in {i.id_ for i in self.installations_of(login)}:
            return _error(404, "Not Found")
        repos = sorted(self.installation_repos(int(raw_id)), key=lambda r: r.full_name.lower())
        found = [self._repo_json(r) for r in repos]
        return self._paged(
            request,
            found,
            lambda chunk: {
                "total_count": len(found),
                "repository_selection": "selected",
                "repositories": chunk,
            },
        )

    def _search(self, request: Request, login: str) -> Reply:
        terms: list[str] = []
        filters: list[tuple[str, str]] = []
        for word in (request.arg("q") or "").split():
            key, sep, value = word.partition(":")
            if sep and key in {"in", "user", "org", "repo", "fork", "is", "archived"}:
                filters.append((key, value))
            else:
                terms.append(word.lower())
        if not terms and not filters:
            return json_reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Search", "field": "q", "code": "missing"}],
                    "documentation_url": _DOCS,
                },
            )

        owners = {v.lower() for k, v in filters if k in {"user", "org"}}

        def matches(repo: FakeRepo) -> bool:
            if owners and repo.owner.lower() not in owners:  # several are alternatives
                return False
            for key, value in filters:
                if key == "repo" and repo.full_name.lower() != value.lower():
                    return False
                if (
                    key == "is"
                    and value in {"private", "public"}
                    and repo.private != (value == "private")
                ):
                    return False
            return all(term in repo.name.lower() for term in terms)

        found = [r for r in self.visible_repos(login) if matches(r)]
        if request.arg("sort") == "updated":
            found.sort(key=lambda r: r.updated_at, reverse=request.arg("order") != "asc")
        else:
            found.sort(key=lambda r: (-r.stars, r.full_name.lower()))
        items = [self._repo_json(r) for r in found]
        return self._paged(
            request,
            items,
            lambda chunk: {
                "total_count": len(items),
                "incomplete_results": False,
                "items": [item | {"score": 1.0} for item in chunk],
            },
        )

    def _branches(self, request: Request, login: str, full_name: str) -> Reply:
        repo = self.readable_repo(login, full_name)
        if repo is None:
            return _error(404, "Not Found")
        items = [
            {
                "name": b.name,
                "commit": {
                    "sha": b.sha,
                    "url": f"{self.base_url}/api/v3/repos/{full_name}/commits/{b.sha}",
                },
                "protected": b.protected,
            }
            for b in sorted(repo.branches, key=lambda b: b.name)
        ]
        return self._paged(request, items)

    def _graphql(self, request: Request, login: str) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        query = str(body.get("query", ""))
        variables = body.get("variables") or {}
        if "refs(" not in query or not isinstance(variables, dict):
            return json_reply(
                200, {"errors": [{"message": "This fake answers the refs query only."}]}
            )
        owner, name = str(variables.get("owner", "")), str(variables.get("name", ""))
        repo = self.readable_repo(login, f"{owner}/{name}")
        if repo is None:
            return json_reply(
                200,
                {
                    "data": {"repository": None},
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "path": ["repository"],
                            "locations": [{"line": 2, "column": 3}],
                            "message": (
                                f"Could not resolve to a Repository with the name '{owner}/{name}'."
                            ),
                        }
                    ],
                },
            )
        needle = str(variables.get("query") or "").lower()
        first = max(1, min(100, int(variables.get("first") or 30)))
        found = sorted((b for b in repo.branches if needle in b.name.lower()), key=lambda b: b.name)
        nodes = [
            {
                "name": b.name,
                "target": {
                    "oid": b.sha,
                    "committedDate": iso(b.committed_at),
                },
                "branchProtectionRule": {"id": f"BPR_{b.name}"} if b.protected else None,
            }
            for b in found[:first]
        ]
        return json_reply(200, {"data": {"repository": {"refs": {"nodes": nodes}}}})

    def _token(self, request: Request) -> Reply:
        """GitHub answers OAuth errors with 200 and an ``error`` field; JSON when asked with
        ``Accept: application/json``, else a form."""
        self.count_refresh()
        form = request.body if isinstance(request.body, dict) else {}
        params = {k: v[0] for k, v in request.query.items()} | form
        as_json = "application/json" in request.headers.get("accept", "")

        def answer(payload: dict[str, Any]) -> Reply:
            if as_json:
                return json_reply(200, payload)
            encoded = urlencode({k: str(v) for k, v in payload.items()}).encode()
            return Reply(200, encoded, "application/x-www-form-urlencoded; charset=utf-8")

        if not self.client_matches(params.get("client_id"), params.get("client_secret")):
            return answer(
                {
                    "error": "incorrect_client_credentials",
                    "error_description": "The client_id and/or client_secret passed are incorrect.",
                    "error_uri": "https://docs.github.com/apps/troubleshooting",
                }
            )
        if params.get("grant_type") != "refresh_token":
            return answer({"error": "unsupported_grant_type"})
        redeemed = self.redeem(str(params.get("refresh_token", "")))
        if redeemed is None:
            return answer(
                {
                    "error": "bad_refresh_token",
                    "error_description": "The refresh token passed is incorrect or expired.",
                    "error_uri": "https://docs.github.com/apps/troubleshooting",
                }
            )
        access, refresh, life, refresh_life, _ = redeemed
        payload: dict[str, Any] = {
            "access_token": access,
            "expires_in": life,
            "refresh_token": refresh,
            "scope": "",
            "token_type": "bearer",
        }
        if refresh_life is not None:
            payload["refresh_token_expires_in"] = refresh_life
        return answer(payload)
