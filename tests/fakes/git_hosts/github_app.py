"""GitHub's App endpoints for the fake GitHub: installation tokens minted for an app JWT (RS256,
checked against the app's registered public key), and what an installation token may do on
issues and pull requests (collaborator permission, comments, reactions, a pull request), in
GitHub's REST shapes."""

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from tests.fakes.git_hosts.server import Request, iso, json_reply
from tests.fakes.git_hosts.state import FakeRepo, Reply

__all__ = ("FakeComment", "FakeGitHubApp", "FakePullRequest", "FakeReaction", "HeldRequest")

_DOCS = "https://docs.github.com/rest"
_TOKEN_LIFETIME = timedelta(hours=1)


def _error(status: int, message: str) -> Reply:
    return json_reply(
        status, {"message": message, "documentation_url": _DOCS, "status": str(status)}
    )


@dataclass(slots=True)
class FakeComment:
    id_: int
    repository: str
    number: int
    body: str
    author: str
    created_at: datetime


@dataclass(slots=True)
class FakeReaction:
    id_: int
    repository: str
    subject: str
    """``issue:<number>``, ``issue-comment:<id>`` or ``review-comment:<id>``."""
    content: str
    author: str


@dataclass(slots=True)
class FakePullRequest:
    repository: str
    number: int
    title: str
    head_ref: str
    head_repository: str
    base_ref: str = "main"


@dataclass(frozen=True, slots=True)
class HeldRequest:
    """A request the fake holds: ``reached`` once it arrives; ``released`` lets it go on,
    to fail with a 502 and write nothing (its client is gone by then)."""

    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


@dataclass(slots=True)
class FakeGitHubApp:
    """The app registered with the fake: its id, slug and public key, the installation tokens
    it minted, and what those tokens wrote."""

    app_id: str
    slug: str
    public_key: RSAKey
    tokens: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    minted: int = 0
    comments: list[FakeComment] = field(default_factory=list)
    reactions: list[FakeReaction] = field(default_factory=list)
    pulls: dict[tuple[str, int], FakePullRequest] = field(default_factory=dict)
    permissions: dict[tuple[str, str], str] = field(default_factory=dict)
    """``(repository, login)`` to ``admin``, ``maintain``, ``write``, ``triage`` or ``read``;
    a member of the repository unlisted has ``write``, anyone else ``none``."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    comment_hold: HeldRequest | None = None

    def hold_next_comment(self) -> HeldRequest:
        """Hold the next comment written until the test releases it; it then writes
        nothing."""
        with self.lock:
            self.comment_hold = HeldRequest()
            return self.comment_hold

    def installation_of(self, token: str, now: datetime) -> int | None:
        found = self.tokens.get(token)
        return None if found is None or found[1] <= now else found[0]

    def comments_on(self, repository: str, number: int) -> list[str]:
        with self.lock:
            return [
                c.body for c in self.comments if (c.repository, c.number) == (repository, number)
            ]


class GitHubAppRoutes:
    """The App routes, given the fake GitHub's accessors (kept apart from its user routes)."""

    def __init__(
        self,
        app: FakeGitHubApp,
        *,
        api: Callable[[], str],
        web: Callable[[], str],
        now: Callable[[], datetime],
        user_json: Callable[[str], dict[str, Any]],
        repo_json: Callable[[FakeRepo], dict[str, Any]],
        repo_of: Callable[[str], FakeRepo | None],
        installation_exists: Callable[[int], bool],
        account_exists: Callable[[str], bool],
        next_id: Callable[[], int],
    ) -> None:
        self.app = app
        self._api = api
        self._web = web
        self._now = now
        self._user_json = user_json
        self._repo_json = repo_json
        self._repo_of = repo_of
        self._installation_exists = installation_exists
        self._account_exists = account_exists
        self._next_id = next_id

    def route(self, request: Request) -> Reply | None:
        """The answer to an App request, or None for a request that is not one."""
        match request.method, request.segments[2:]:
            case "POST", ["app", "installations", raw_id, "access_tokens"]:
                return self._mint(request, raw_id)
            case _, ["repos", owner, name, *rest] if request.token in self.app.tokens:
                return self._repo_route(request, f"{owner}/{name}", rest)
            case "POST", ["repos", *_]:
                return _error(401, "Bad credentials")
        return None

    def _mint(self, request: Request, raw_id: str) -> Reply:
        try:
            claims = jwt.decode(request.token, self.app.public_key, algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _error(401, "A JSON web token could not be decoded")
        now = int(time.time())
        issued, expires = claims.get("iat"), claims.get("exp")
        if (
            str(claims.get("iss")) != self.app.app_id
            or not isinstance(issued, int)
            or not isinstance(expires, int)
            or expires <= now
            or expires - issued > 600
            or issued > now + 60
        ):
            return _error(401, "'Expiration time' claim ('exp') is too far in the future")
        if not raw_id.isdigit() or not self._installation_exists(int(raw_id)):
            return _error(404, "Not Found")
        token = f"ghs_{secrets.token_hex(18)}"
        expires_at = self._now() + _TOKEN_LIFETIME
        with self.app.lock:
            self.app.tokens[token] = (int(raw_id), expires_at)
            self.app.minted += 1
        return json_reply(
            201,
            {
                "token": token,
                "expires_at": iso(expires_at),
                "permissions": {"issues": "write", "pull_requests": "write", "contents": "write"},
                "repository_selection": "selected",
            },
        )

    def _repo_route(self, request: Request, full_name: str, rest: list[str]) -> Reply:
        if self.app.installation_of(request.token, self._now()) is None:
            return _error(401, "Bad credentials")
        repo = self._repo_of(full_name)
        if repo is None:
            return _error(404, "Not Found")
        match request.method, rest:
            case "GET", ["collaborators", login, "permission"]:
                return self._permission(repo, login)
            case "POST", ["issues", number, "comments"] if number.isdigit():
                return self._comment(request, repo, int(number))
            case "POST", ["issues", number, "reactions"] if number.isdigit():
                return self._react(request, repo, f"issue:{number}")
            case "POST", ["issues", "comments", comment_id, "reactions"]:
                return self._react(request, repo, f"issue-comment:{comment_id}")
            case "POST", ["pulls", "comments", comment_id, "reactions"]:
                return self._react(request, repo, f"review-comment:{comment_id}")
            case "GET", ["pulls", number] if number.isdigit():
                return self._pull(repo, int(number))
        return _error(404, "Not Found")

    def _permission(self, repo: FakeRepo, login: str) -> Reply:
        if not self._account_exists(login):
            return _error(404, f"{login} is not a user")
        role = self.app.permissions.get((repo.full_name, login))
        if role is None:
            role = "write" if login in repo.members else "none"
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = {**self._user_json(login), "permissions": _permission_flags(role)}
        user["role_name"] = role
        return json_reply(200, {"permission": legacy, "role_name": role, "user": user})

    def _comment(self, request: Request, repo: FakeRepo, number: int) -> Reply:
        body = request.body.get("body") if isinstance(request.body, dict) else None
        if not isinstance(body, str) or not body:
            return _error(422, "Validation Failed")
        with self.app.lock:
            held, self.app.comment_hold = self.app.comment_hold, None
        if held is not None:
            held.reached.set()
            held.released.wait(timeout=600)
            return _error(502, "Bad Gateway")
        comment = FakeComment(
            id_=self._next_id(),
            repository=repo.full_name,
            number=number,
            body=body,
            author=f"{self.app.slug}[bot]",
            created_at=self._now(),
        )
        with self.app.lock:
            self.app.comments.append(comment)
        return json_reply(201, self._comment_json(comment))

    def _comment_json(self, comment: FakeComment) -> dict[str, Any]:
        api = f"{self._api()}/repos/{comment.repository}"
        web = f"{self._web()}/{comment.repository}"
        author = self._bot_json(comment.author)
        return {
            "id": comment.id_,
            "node_id": f"IC_{comment.id_}",
            "url": f"{api}/issues/comments/{comment.id_}",
            "html_url": f"{web}/issues/{comment.number}#issuecomment-{comment.id_}",
            "issue_url": f"{api}/issues/{comment.number}",
            "body": comment.body,
            "user": author,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.created_at),
            "author_association": "NONE",
            "performed_via_github_app": None,
        }

    def _bot_json(self, login: str) -> dict[str, Any]:
        """The app's bot account, ``<slug>[bot]``, its brackets escaped in its addresses."""
        escaped = login.replace("[", "%5B").replace("]", "%5D")
        found = {
            key: value.replace(login, escaped)
            if isinstance(value, str) and key != "login"
            else value
            for key, value in self._user_json(login).items()
        }
        return {**found, "type": "Bot"}

    def _react(self, request: Request, repo: FakeRepo, subject: str) -> Reply:
        content = request.body.get("content") if isinstance(request.body, dict) else None
        if content not in {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}:
            return _error(422, "Validation Failed")
        author = f"{self.app.slug}[bot]"
        with self.app.lock:
            for kept in self.app.reactions:
                if (kept.repository, kept.subject, kept.content, kept.author) == (
                    repo.full_name,
                    subject,
                    content,
                    author,
                ):
                    return json_reply(200, self._reaction_json(kept))
            reaction = FakeReaction(
                id_=self._next_id(),
                repository=repo.full_name,
                subject=subject,
                content=content,
                author=author,
            )
            self.app.reactions.append(reaction)
        return json_reply(201, self._reaction_json(reaction))

    def _reaction_json(self, reaction: FakeReaction) -> dict[str, Any]:
        return {
            "id": reaction.id_,
            "node_id": f"REA_{reaction.id_}",
            "user": self._bot_json(reaction.author),
            "content": reaction.content,
            "created_at": iso(self._now()),
        }

    def _pull(self, repo: FakeRepo, number: int) -> Reply:
        """A ``pull-request``, opened by the repository's owner, head and base in GitHub's
        ``{owner}:{branch}`` labels."""
        pull = self.app.pulls.get((repo.full_name, number))
        if pull is None:
            return _error(404, "Not Found")
        api = f"{self._api()}/repos/{repo.full_name}"
        web = f"{self._web()}/{repo.full_name}"
        head_repo = self._repo_of(pull.head_repository)
        created = iso(self._now())

        def side(ref: str, side_repo: FakeRepo | None, owner: str) -> dict[str, Any]:
            return {
                "label": f"{owner}:{ref}",
                "ref": ref,
                "sha": "0" * 40,
                "user": self._user_json(owner),
                "repo": None if side_repo is None else self._repo_json(side_repo),
            }

        def link(href: str) -> dict[str, str]:
            return {"href": href}

        author = self._user_json(repo.owner)
        return json_reply(
            200,
            {
                "url": f"{api}/pulls/{number}",
                "id": 500000 + number,
                "node_id": f"PR_{number}",
                "html_url": f"{web}/pull/{number}",
                "diff_url": f"{web}/pull/{number}.diff",
                "patch_url": f"{web}/pull/{number}.patch",
                "issue_url": f"{api}/issues/{number}",
                "commits_url": f"{api}/pulls/{number}/commits",
                "review_comments_url": f"{api}/pulls/{number}/comments",
                "review_comment_url": f"{api}/pulls/comments{{/number}}",
                "comments_url": f"{api}/issues/{number}/comments",
                "statuses_url": f"{api}/statuses/{'0' * 40}",
                "number": number,
                "state": "open",
                "locked": False,
                "title": pull.title,
                "user": author,
                "body": None,
                "labels": [],
                "milestone": None,
                "created_at": created,
                "updated_at": created,
                "closed_at": None,
                "merged_at": None,
                "merge_commit_sha": None,
                "assignee": None,
                "head": side(pull.head_ref, head_repo, pull.head_repository.split("/")[0]),
                "base": side(pull.base_ref, repo, repo.owner),
                "_links": {
                    "self": link(f"{api}/pulls/{number}"),
                    "html": link(f"{web}/pull/{number}"),
                    "issue": link(f"{api}/issues/{number}"),
                    "comments": link(f"{api}/issues/{number}/comments"),
                    "review_comments": link(f"{api}/pulls/{number}/comments"),
                    "review_comment": link(f"{api}/pulls/comments{{/number}}"),
                    "commits": link(f"{api}/pulls/{number}/commits"),
                    "statuses": link(f"{api}/statuses/{'0' * 40}"),
                },
                "author_association": "OWNER",
                "auto_merge": None,
                "merged": False,
                "mergeable": True,
                "mergeable_state": "clean",
                "merged_by": None,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": 1,
                "additions": 1,
                "deletions": 0,
                "changed_files": 1,
            },
        )


def _permission_flags(role: str) -> dict[str, bool]:
    order = ["read", "triage", "write", "maintain", "admin"]
    rank = order.index(role) if role in order else -1
    return {
        "pull": rank >= 0,
        "triage": rank >= 1,
        "push": rank >= 2,
        "maintain": rank >= 3,
        "admin": rank >= 4,
    }


def app_key_pair() -> tuple[str, RSAKey]:
    """A new app private key in PEM (what GitHub hands an app's owner) and its public half."""
    key = RSAKey.generate_key(2048)
    pem = key.as_pem(private=True).decode()
    return pem, RSAKey.import_key(key.as_pem(private=False))
