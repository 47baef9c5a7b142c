"""What a fake Bitbucket Cloud does on issues and pull requests and with repository webhooks, in
its 2.0 API shapes: comments, a workspace's repository permissions, pull requests, and
``/repositories/{workspace}/{slug}/hooks``."""

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.fakes.git_hosts.server import Request, iso, json_reply
from tests.fakes.git_hosts.state import FakeAccount, FakeGitHostState, FakeRepo, Reply

__all__ = ("BitbucketThreadRoutes", "FakeBitbucketThreads", "FakeComment", "FakeHook")


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"type": "error", "error": {"message": message}})


@dataclass(frozen=True, slots=True)
class FakeComment:
    id_: int
    repository: str
    kind: str
    """``issues`` or ``pullrequests``."""
    number: int
    body: str
    author: str


@dataclass(slots=True)
class FakeHook:
    uuid: str
    repository: str
    url: str
    secret: str
    events: list[str]
    created_at: datetime


@dataclass(slots=True)
class FakePull:
    number: int
    source_branch: str
    from_fork: bool


@dataclass
class FakeBitbucketThreads:
    """The fake's threads and hooks; tests read what the server did here."""

    permissions: dict[tuple[str, str], str] = field(default_factory=dict)
    """(repository, login) → ``admin``, ``write`` or ``read``; members without one write."""
    comments: list[FakeComment] = field(default_factory=list)
    hooks: list[FakeHook] = field(default_factory=list)
    removed_hooks: list[str] = field(default_factory=list)
    pulls: dict[tuple[str, int], FakePull] = field(default_factory=dict)
    comment_bodies: bool = True
    """Answer a new comment with it (as Bitbucket does); False: with its ``Location`` only,
    as Bitbucket's description documents a new issue comment."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(7001))

    def comments_on(self, repository: str, number: int, *, pull: bool = False) -> list[str]:
        kind = "pullrequests" if pull else "issues"
        with self.lock:
            return [
                c.body
                for c in self.comments
                if (c.repository, c.kind, c.number) == (repository, kind, number)
            ]

    def hook_on(self, repository: str) -> FakeHook | None:
        with self.lock:
            return next((h for h in self.hooks if h.repository == repository), None)


class BitbucketThreadRoutes:
    def __init__(self, host: FakeGitHostState, threads: FakeBitbucketThreads) -> None:
        self._host = host
        self._threads = threads

    def route(self, request: Request, account: FakeAccount, rest: list[str]) -> Reply | None:
        """The answer to ``rest`` (the segments after ``/2.0``), or None for another route."""
        match (request.method, *rest):
            case ("GET", "workspaces", workspace, "permissions", "repositories", slug):
                return self._permissions(request, account, f"{workspace}/{slug}")
        if len(rest) < 4 or rest[0] != "repositories":
            return None
        repo = self._host.readable_repo(account.login, f"{rest[1]}/{rest[2]}")
        if repo is None:
            return _error(404, "Repository not found")
        match (request.method, *rest[3:]):
            case ("POST", "issues" | "pullrequests" as kind, number, "comments"):
                return self._comment(request, account, repo, kind, number)
            case ("GET", "pullrequests", number):
                return self._pull(repo, number)
            case ("POST", "hooks"):
                return self._add_hook(request, account, repo)
            case ("GET", "hooks"):
                return self._list_hooks(account, repo)
            case ("DELETE", "hooks", uid):
                return self._remove_hook(account, repo, uid)
        return None

    def _permission_of(self, repo: FakeRepo, login: str) -> str | None:
        if login not in repo.members and repo.owner != login:
            return None
        return self._threads.permissions.get((repo.full_name, login), "write")

    def _user_json(self, account: FakeAccount) -> dict[str, Any]:
        return {
            "type": "user",
            "uuid": f"{{account-{account.id_}}}",
            "account_id": f"557058:{account.id_}",
            "nickname": account.login,
            "display_name": account.name or account.login,
            "links": {"html": {"href": f"{self._host.base_url}/{account.login}/"}},
        }

    def _repo_ref(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "type": "repository",
            "full_name": repo.full_name,
            "name": repo.name,
            "uuid": f"{{repo-{repo.id_}}}",
            "links": {"html": {"href": f"{self._host.base_url}/{repo.full_name}"}},
        }

    def _permissions(self, request: Request, account: FakeAccount, full_name: str) -> Reply:
        repo = self._host.readable_repo(account.login, full_name)
        if repo is None or self._permission_of(repo, account.login) != "admin":
            return _error(403, "You do not have admin access to this workspace.")
        wanted = request.arg("q") or ""
        values = []
        for other in self._host.accounts():
            permission = self._permission_of(repo, other.login)
            uuid = f"{{account-{other.id_}}}"
            if permission is None or (wanted and wanted != f'user.uuid="{uuid}"'):
                continue
            values.append(
                {
                    "type": "repository_permission",
                    "permission": permission,
                    "user": self._user_json(other),
                    "repository": self._repo_ref(repo),
                }
            )
        return json_reply(200, {"values": values, "pagelen": 10, "size": len(values), "page": 1})

    def _comment(
        self, request: Request, account: FakeAccount, repo: FakeRepo, kind: str, number: str
    ) -> Reply:
        content = request.body.get("content") if isinstance(request.body, dict) else None
        raw = content.get("raw") if isinstance(content, dict) else None
        if not isinstance(raw, str) or not raw or not number.isdigit():
            return _error(400, "content.raw: This field is required.")
        with self._threads.lock:
            comment = FakeComment(
                id_=next(self._threads.ids),
                repository=repo.full_name,
                kind=kind,
                number=int(number),
                body=raw,
                author=account.login,
            )
            self._threads.comments.append(comment)
        now = iso(self._host.now())
        api = f"{self._host.base_url}/!api/2.0/repositories/{repo.full_name}"
        location = ("Location", f"{api}/{kind}/{number}/comments/{comment.id_}")
        if not self._threads.comment_bodies:
            return Reply(201, b"", headers=(location,))
        return json_reply(
            201,
            {
                "type": "pullrequest_comment" if kind == "pullrequests" else "issue_comment",
                "id": comment.id_,
                "created_on": now,
                "updated_on": now,
                "content": {"raw": raw, "markup": "markdown", "html": raw},
                "user": self._user_json(account),
                "deleted": False,
                "links": {
                    "html": {"href": f"{self._host.base_url}/{repo.full_name}/{kind}/{number}"}
                },
            },
            headers=[location],
        )

    def _pull(self, repo: FakeRepo, number: str) -> Reply:
        found = self._threads.pulls.get((repo.full_name, int(number) if number.isdigit() else 0))
        if found is None:
            return _error(404, "Pull request not found")
        web = f"{self._host.base_url}/{repo.full_name}"
        source_repo = self._repo_ref(repo)
        if found.from_fork:
            source_repo = {**source_repo, "full_name": f"someone/{repo.name}"}
        return json_reply(
            200,
            {
                "type": "pullrequest",
                "id": found.number,
                "title": f"Pull request {found.number}",
                "description": "",
                "state": "OPEN",
                "source": {
                    "branch": {"name": found.source_branch},
                    "commit": {"hash": "0" * 12},
                    "repository": source_repo,
                },
                "destination": {
                    "branch": {"name": repo.default_branch or "main"},
                    "commit": {"hash": "1" * 12},
                    "repository": self._repo_ref(repo),
                },
                "links": {"html": {"href": f"{web}/pull-requests/{found.number}"}},
            },
        )

    def _add_hook(self, request: Request, account: FakeAccount, repo: FakeRepo) -> Reply:
        if self._permission_of(repo, account.login) != "admin":
            return _error(403, "You must be an administrator of the repository.")
        data = request.body if isinstance(request.body, dict) else {}
        url, events = data.get("url"), data.get("events")
        if not isinstance(url, str) or not isinstance(events, list) or not events:
            return _error(400, "url and events are required")
        with self._threads.lock:
            hook = FakeHook(
                uuid=f"{{{next(self._threads.ids):08d}-0000-4000-8000-000000000000}}",
                repository=repo.full_name,
                url=url,
                secret=str(data.get("secret") or ""),
                events=[str(e) for e in events],
                created_at=self._host.now(),
            )
            self._threads.hooks.append(hook)
        return json_reply(
            201,
            {
                "type": "webhook_subscription",
                "uuid": hook.uuid,
                "url": hook.url,
                "description": str(data.get("description") or ""),
                "subject_type": "repository",
                "subject": self._repo_ref(repo),
                "active": bool(data.get("active", True)),
                "created_at": iso(hook.created_at),
                "events": hook.events,
                "secret_set": bool(hook.secret),
            },
        )

    def _list_hooks(self, account: FakeAccount, repo: FakeRepo) -> Reply:
        if self._permission_of(repo, account.login) != "admin":
            return _error(403, "You must be an administrator of the repository.")
        with self._threads.lock:
            found = [h for h in self._threads.hooks if h.repository == repo.full_name]
        values = [
            {
                "type": "webhook_subscription",
                "uuid": h.uuid,
                "url": h.url,
                "description": "",
                "subject_type": "repository",
                "subject": self._repo_ref(repo),
                "active": True,
                "created_at": iso(h.created_at),
                "events": h.events,
                "secret_set": bool(h.secret),
            }
            for h in found
        ]
        return json_reply(200, {"values": values, "pagelen": 100, "size": len(values), "page": 1})

    def _remove_hook(self, account: FakeAccount, repo: FakeRepo, uid: str) -> Reply:
        if self._permission_of(repo, account.login) != "admin":
            return _error(403, "You must be an administrator of the repository.")
        with self._threads.lock:
            found = next(
                (
                    h
                    for h in self._threads.hooks
                    if h.uuid == uid and h.repository == repo.full_name
                ),
                None,
            )
            if found is None:
                return _error(404, "Webhook not found")
            self._threads.hooks.remove(found)
            self._threads.removed_hooks.append(found.uuid)
        return Reply(204)
