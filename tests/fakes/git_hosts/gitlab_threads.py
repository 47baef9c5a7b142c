"""What a fake GitLab does on issues and merge requests and with project webhooks, in GitLab's
REST v4 shapes: notes, award emoji, project members (with their access level), merge
requests, and ``/projects/:id/hooks``. Projects are addressed by id or URL-encoded full path."""

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.fakes.git_hosts.server import Request, iso, json_reply
from tests.fakes.git_hosts.state import FakeAccount, FakeGitHostState, FakeRepo, Reply

__all__ = ("FakeAward", "FakeGitLabThreads", "FakeHook", "FakeNote", "GitLabThreadRoutes")

DEVELOPER = 30
MAINTAINER = 40


def _message(status: int, message: str) -> Reply:
    return json_reply(status, {"message": message})


@dataclass(frozen=True, slots=True)
class FakeNote:
    id_: int
    repository: str
    kind: str
    """``issues`` or ``merge_requests``."""
    iid: int
    body: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FakeAward:
    subject: str
    """``issue:17``, ``merge_request:1`` or ``note:1241``."""
    name: str
    user: str


@dataclass(slots=True)
class FakeHook:
    id_: int
    repository: str
    """The project's path, or the group's."""
    url: str
    token: str
    events: dict[str, bool]
    created_at: datetime
    group: bool = False


@dataclass(slots=True)
class FakeMergeRequest:
    iid: int
    source_branch: str
    target_branch: str
    from_fork: bool


@dataclass
class FakeGitLabThreads:
    """The fake's threads and hooks; tests read what the server did here."""

    access_levels: dict[tuple[str, str], int] = field(default_factory=dict)
    """(project, login) → access level (30 Developer, 40 Maintainer); members without one
    are Developers."""
    notes: list[FakeNote] = field(default_factory=list)
    awards: list[FakeAward] = field(default_factory=list)
    hooks: list[FakeHook] = field(default_factory=list)
    merge_requests: dict[tuple[str, int], FakeMergeRequest] = field(default_factory=dict)
    removed_hooks: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(5001))

    def notes_on(self, repository: str, iid: int, *, merge_request: bool = False) -> list[str]:
        kind = "merge_requests" if merge_request else "issues"
        with self.lock:
            return [
                n.body
                for n in self.notes
                if (n.repository, n.kind, n.iid) == (repository, kind, iid)
            ]

    def hook_on(self, repository: str) -> FakeHook | None:
        with self.lock:
            return next((h for h in self.hooks if h.repository == repository), None)


class GitLabThreadRoutes:
    """Routes ``/api/v4/projects/:id/...`` for threads and hooks, for a caller ``account``."""

    def __init__(self, host: FakeGitHostState, threads: FakeGitLabThreads) -> None:
        self._host = host
        self._threads = threads

    def _now(self) -> datetime:
        return self._host.now()

    def route(self, request: Request, account: FakeAccount, rest: list[str]) -> Reply | None:
        """The answer to ``rest`` (the segments after ``/api/v4``), or None when it is not a
        thread or hook route."""
        if len(rest) >= 3 and rest[0] == "groups" and rest[2] == "hooks":
            return self._group_hooks(request, account, rest[1], rest[3:])
        if len(rest) < 3 or rest[0] != "projects":
            return None
        repo = self._project(account, rest[1])
        route = (request.method, *rest[2:])
        if repo is None:
            known = route[1] in {"members", "issues", "merge_requests", "hooks"}
            return _message(404, "404 Project Not Found") if known else None
        match route:
            case ("GET", "members", "all", user_id):
                return self._member(repo, user_id)
            case ("POST", "issues" | "merge_requests" as kind, iid, "notes"):
                return self._note(request, account, repo, kind, iid)
            case ("POST", "issues" | "merge_requests" as kind, iid, "award_emoji"):
                return self._award(request, account, f"{kind[:-1]}:{iid}", kind)
            case ("POST", "issues" | "merge_requests" as kind, iid, "notes", note, "award_emoji"):
                return self._award(request, account, f"note:{note}", "notes")
            case ("GET", "merge_requests", iid):
                return self._merge_request(repo, iid)
            case ("POST", "hooks"):
                return self._add_hook(request, account, repo)
            case ("GET", "hooks"):
                return self._list_hooks(account, repo.full_name, self._level(repo, account.login))
            case ("DELETE", "hooks", hook_id):
                return self._remove_hook(account, repo, hook_id)
        return None

    def _project(self, account: FakeAccount, ident: str) -> FakeRepo | None:
        if ident.isdigit():
            found = [r for r in self._host.visible_repos(account.login) if r.id_ == int(ident)]
            return found[0] if found else None
        return self._host.readable_repo(account.login, ident)

    def _level(self, repo: FakeRepo, login: str) -> int:
        if login not in repo.members and repo.owner != login:
            return 0
        return self._threads.access_levels.get((repo.full_name, login), DEVELOPER)

    def _user_json(self, account: FakeAccount) -> dict[str, Any]:
        return {
            "id": account.id_,
            "username": account.login,
            "name": account.name or account.login,
            "state": "active",
            "locked": False,
            "avatar_url": account.avatar_url,
            "web_url": f"{self._host.base_url}/{account.login}",
        }

    def _member(self, repo: FakeRepo, user_id: str) -> Reply:
        account = next(
            (a for a in self._host.accounts() if str(a.id_) == user_id),
            None,
        )
        level = 0 if account is None else self._level(repo, account.login)
        if account is None or level == 0:
            return _message(404, "404 Not found")
        return json_reply(
            200,
            {
                **self._user_json(account),
                "created_at": iso(repo.created_at),
                "expires_at": None,
                "access_level": level,
                "membership_state": "active",
            },
        )

    def _note(
        self, request: Request, account: FakeAccount, repo: FakeRepo, kind: str, iid: str
    ) -> Reply:
        body = request.body.get("body") if isinstance(request.body, dict) else None
        if not isinstance(body, str) or not body or not iid.isdigit():
            return json_reply(400, {"message": "400 Bad request - body is missing"})
        if self._level(repo, account.login) == 0:
            return _message(403, "403 Forbidden")
        with self._threads.lock:
            note = FakeNote(
                id_=next(self._threads.ids),
                repository=repo.full_name,
                kind=kind,
                iid=int(iid),
                body=body,
                author=account.login,
                created_at=self._now(),
            )
            self._threads.notes.append(note)
        return json_reply(
            201,
            {
                "id": note.id_,
                "type": None,
                "body": note.body,
                "attachment": None,
                "author": self._user_json(account),
                "created_at": iso(note.created_at),
                "updated_at": iso(note.created_at),
                "system": False,
                "noteable_id": repo.id_ * 1000 + note.iid,
                "noteable_type": "Issue" if kind == "issues" else "MergeRequest",
                "project_id": repo.id_,
                "resolvable": False,
                "confidential": False,
                "internal": False,
                "noteable_iid": note.iid,
                "commands_changes": {},
            },
        )

    def _award(self, request: Request, account: FakeAccount, subject: str, kind: str) -> Reply:
        name = request.body.get("name") if isinstance(request.body, dict) else None
        if not isinstance(name, str) or not name:
            return json_reply(400, {"message": "400 Bad request - name is missing"})
        with self._threads.lock:
            award = FakeAward(subject=subject, name=name, user=account.login)
            if award in self._threads.awards:
                return _message(404, "404 Award Emoji Name has already been taken Not Found")
            self._threads.awards.append(award)
            award_id = next(self._threads.ids)
        types = {"issues": "Issue", "merge_requests": "MergeRequest", "notes": "Note"}
        return json_reply(
            201,
            {
                "id": award_id,
                "name": name,
                "user": self._user_json(account),
                "created_at": iso(self._now()),
                "updated_at": iso(self._now()),
                "awardable_id": int(subject.rsplit(":", 1)[1]),
                "awardable_type": types[kind],
                "url": None,
            },
        )

    def _merge_request(self, repo: FakeRepo, iid: str) -> Reply:
        found = self._threads.merge_requests.get((repo.full_name, int(iid) if iid.isdigit() else 0))
        if found is None:
            return _message(404, "404 Not found")
        source_project = repo.id_ + 900 if found.from_fork else repo.id_
        return json_reply(
            200,
            {
                "id": repo.id_ * 1000 + found.iid,
                "iid": found.iid,
                "project_id": repo.id_,
                "title": f"Merge request {found.iid}",
                "description": "",
                "state": "opened",
                "created_at": iso(repo.created_at),
                "updated_at": iso(repo.updated_at),
                "target_branch": found.target_branch,
                "source_branch": found.source_branch,
                "source_project_id": source_project,
                "target_project_id": repo.id_,
                "draft": False,
                "work_in_progress": False,
                "merge_status": "can_be_merged",
                "sha": "0" * 40,
                "web_url": f"{self._host.base_url}/{repo.full_name}/-/merge_requests/{found.iid}",
            },
        )

    def _add_hook(self, request: Request, account: FakeAccount, repo: FakeRepo) -> Reply:
        if self._level(repo, account.login) < MAINTAINER:
            return _message(403, "403 Forbidden")
        data = request.body if isinstance(request.body, dict) else {}
        url, token = data.get("url"), data.get("token")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return json_reply(400, {"error": "url is missing"})
        events = {
            name: bool(data.get(name, name == "push_events"))
            for name in ("push_events", "issues_events", "merge_requests_events", "note_events")
        }
        with self._threads.lock:
            hook = FakeHook(
                id_=next(self._threads.ids),
                repository=repo.full_name,
                url=url,
                token=str(token or ""),
                events=events,
                created_at=self._now(),
            )
            self._threads.hooks.append(hook)
        return json_reply(
            201,
            {
                "id": hook.id_,
                "url": hook.url,
                "name": None,
                "description": None,
                "project_id": repo.id_,
                **hook.events,
                "confidential_issues_events": False,
                "confidential_note_events": False,
                "tag_push_events": False,
                "pipeline_events": False,
                "wiki_page_events": False,
                "job_events": False,
                "enable_ssl_verification": bool(data.get("enable_ssl_verification", True)),
                "alert_status": "executable",
                "created_at": iso(hook.created_at),
            },
        )

    def _group_hooks(
        self, request: Request, account: FakeAccount, path: str, rest: list[str]
    ) -> Reply:
        """``/groups/:id/hooks``: a group a Maintainer (set on its path) administers."""
        level = self._threads.access_levels.get((path, account.login), 0)
        if level < MAINTAINER:
            return _message(404, "404 Group Not Found")
        if request.method == "GET" and not rest:
            return self._list_hooks(account, path, level)
        if request.method == "POST" and not rest:
            data = request.body if isinstance(request.body, dict) else {}
            url = data.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                return json_reply(400, {"error": "url is missing"})
            names = ("push_events", "issues_events", "merge_requests_events", "note_events")
            with self._threads.lock:
                hook = FakeHook(
                    id_=next(self._threads.ids),
                    repository=path,
                    url=url,
                    token=str(data.get("token") or ""),
                    events={n: bool(data.get(n, n == "push_events")) for n in names},
                    created_at=self._now(),
                    group=True,
                )
                self._threads.hooks.append(hook)
            return json_reply(
                201,
                {
                    "id": hook.id_,
                    "url": hook.url,
                    "group_id": 4242,
                    **hook.events,
                    "enable_ssl_verification": bool(data.get("enable_ssl_verification", True)),
                    "created_at": iso(hook.created_at),
                },
            )
        if request.method == "DELETE" and len(rest) == 1:
            with self._threads.lock:
                found = next(
                    (
                        h
                        for h in self._threads.hooks
                        if h.group and h.repository == path and str(h.id_) == rest[0]
                    ),
                    None,
                )
                if found is None:
                    return _message(404, "404 Not found")
                self._threads.hooks.remove(found)
                self._threads.removed_hooks.append(found.id_)
            return Reply(204)
        return _message(404, "404 Not Found")

    def _list_hooks(self, account: FakeAccount, path: str, level: int) -> Reply:
        if level < MAINTAINER:
            return _message(403, "403 Forbidden")
        with self._threads.lock:
            found = [h for h in self._threads.hooks if h.repository == path]
        return json_reply(
            200,
            [
                {
                    "id": h.id_,
                    "url": h.url,
                    **h.events,
                    "created_at": iso(h.created_at),
                }
                for h in found
            ],
        )

    def _remove_hook(self, account: FakeAccount, repo: FakeRepo, hook_id: str) -> Reply:
        if self._level(repo, account.login) < MAINTAINER:
            return _message(403, "403 Forbidden")
        with self._threads.lock:
            found = next(
                (
                    h
                    for h in self._threads.hooks
                    if str(h.id_) == hook_id and h.repository == repo.full_name
                ),
                None,
            )
            if found is None:
                return _message(404, "404 Not found")
            self._threads.hooks.remove(found)
            self._threads.removed_hooks.append(found.id_)
        return Reply(204)
