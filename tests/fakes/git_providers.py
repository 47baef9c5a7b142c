import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from application.errors import DependencyUnavailableError
from application.ports.git_provider import GitInstallations, GitProvider, GitProviders
from domain.git.entities import Branch, GitAccount, Installation, Page, Repository, RepoSort
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import InvalidValueError, NotFoundError
from tests.fakes.git_hosts.state import FakeGitHostState, FakeRepo

__all__ = ("FakeGitInstallations", "FakeGitProvider", "FakeGitProviders")

T = TypeVar("T")

_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SORT_KEYS: dict[RepoSort, tuple[Callable[[FakeRepo], object], bool]] = {
    RepoSort.PUSHED: (lambda r: r.pushed_at, True),
    RepoSort.UPDATED: (lambda r: r.updated_at, True),
    RepoSort.CREATED: (lambda r: r.created_at, True),
    RepoSort.NAME: (lambda r: r.full_name.lower(), False),
}


def _segments(full_name: str, kind: ProviderKind) -> list[str]:
    most = 21 if kind is ProviderKind.GITLAB else 2
    segments = full_name.split("/")
    if not 2 <= len(segments) <= most or any(
        not _SEGMENT.fullmatch(s) or s in {".", ".."} for s in segments
    ):
        raise InvalidValueError(f"Not a repository name: {full_name[:100]!r}.", field="repository")
    return segments


def _query(text: str) -> str:
    text = text.strip()
    if not text or len(text) > 200 or _CONTROL.search(text):
        raise InvalidValueError("The search text must be 1 to 200 characters.", field="query")
    return text


def _page(items: list[T], page: int, per_page: int) -> Page[T]:
    if page < 1:
        raise InvalidValueError("Pages are numbered from 1.", field="page")
    per_page = max(1, min(100, per_page))
    start = (page - 1) * per_page
    more = start + per_page < len(items)
    return Page(
        items=items[start : start + per_page],
        next_page=page + 1 if more else None,
        total=len(items),
    )


class _FakeHostView:
    """What the fake's ports share: one host's state seen through one token."""

    def __init__(self, host: GitHost, state: FakeGitHostState, token: str) -> None:
        self._host = host
        self._state = state
        self._token = token

    @property
    def host(self) -> GitHost:
        return self._host

    def _login(self) -> str:
        state = self._state
        name = self._host.kind.value
        if state.outage is not None or state.malformed:
            raise DependencyUnavailableError(f"{name} failed ({state.outage or 200}).")
        if state.rate_limited:
            raise DependencyUnavailableError(f"{name}'s rate limit is spent for now.")
        account = state.account_for(self._token)
        if account is None:
            raise ProviderReconnectRequiredError(self._host.kind, f"{name} answered 401")
        return account.login

    def _repository(self, repo: FakeRepo, installation_id: str | None = None) -> Repository:
        return Repository(
            provider=self._host.kind,
            id_=str(repo.id_),
            full_name=repo.full_name,
            is_private=repo.private,
            default_branch=repo.default_branch,
            pushed_at=repo.pushed_at,
            owner_type="organization" if repo.owner_type == "Organization" else "user",
            stars=repo.stars,
            installation_id=installation_id,
        )


class FakeGitProvider(_FakeHostView, GitProvider):
    def _readable(self, repository: str) -> tuple[str, FakeRepo]:
        _segments(repository, self._host.kind)
        login = self._login()
        repo = self._state.readable_repo(login, repository)
        if repo is None:
            raise NotFoundError(f"No repository {repository!r} you can see.", field="repository")
        return login, repo

    async def get_account(self) -> GitAccount:
        login = self._login()
        account = self._state.account(login)
        assert account is not None
        return GitAccount(
            provider=self._host.kind,
            id_=str(account.id_),
            login=account.login,
            name=account.name,
            email=account.email,
            avatar_url=account.avatar_url,
        )

    async def list_repositories(
        self, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        key, descending = _SORT_KEYS[sort]
        found = sorted(self._state.member_repos(self._login()), key=key, reverse=descending)  # type: ignore[arg-type]
        return _page([self._repository(r) for r in found], page, per_page)

    async def search_repositories(
        self, query: str, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        text = _query(query).lower()
        key, descending = _SORT_KEYS[sort]
        login = self._login()
        found = sorted(
            (r for r in self._state.member_repos(login) if text in r.name.lower()),
            key=key,  # type: ignore[arg-type]
            reverse=descending,
        )
        return _page([self._repository(r) for r in found], page, per_page)

    async def list_branches(self, repository: str, *, page: int, per_page: int) -> Page[Branch]:
        _, repo = self._readable(repository)
        branches = [
            Branch(
                name=b.name,
                commit_sha=b.sha,
                protected=b.protected,
                last_commit_at=b.committed_at,
            )
            for b in sorted(repo.branches, key=lambda b: b.name)
        ]
        return _page(branches, page, per_page)

    async def search_branches(self, repository: str, query: str, *, per_page: int) -> list[Branch]:
        _, repo = self._readable(repository)
        text = _query(query).lower()
        found = sorted((b for b in repo.branches if text in b.name.lower()), key=lambda b: b.name)
        return [
            Branch(
                name=b.name, commit_sha=b.sha, protected=b.protected, last_commit_at=b.committed_at
            )
            for b in found[: max(1, min(100, per_page))]
        ]


class FakeGitInstallations(_FakeHostView, GitInstallations):
    """GitHub App installations of a GitHub host's fake state."""

    async def list_installations(self) -> list[Installation]:
        return [
            Installation(id_=str(i.id_), account_login=i.account_login, account_type=i.account_type)
            for i in self._state.installations_of(self._login())
        ]

    async def list_installation_repositories(
        self, installation_id: str, *, page: int, per_page: int
    ) -> Page[Repository]:
        if not installation_id.isdigit():
            raise InvalidValueError("An installation id is a number.", field="installation_id")
        login = self._login()
        if int(installation_id) not in {i.id_ for i in self._state.installations_of(login)}:
            raise NotFoundError("No such installation.", field="installation_id")
        repos = sorted(
            self._state.installation_repos(int(installation_id)),
            key=lambda r: r.full_name.lower(),
        )
        return _page([self._repository(r, installation_id) for r in repos], page, per_page)


class FakeGitProviders(GitProviders):
    """Git hosts in memory, without HTTP: each host's accounts, tokens, repositories, branches
    and installations live in a ``FakeGitHostState`` (the same one the loopback fakes serve
    from), set up with ``state(host).add_user(...)``, ``issue_token``, ``add_repo`` and so on;
    its ``outage``, ``rate_limited`` and ``malformed`` switches make calls fail as an outage.
    ``opened`` records the hosts opened, in order."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._now = now
        self._states: dict[GitHost, FakeGitHostState] = {}
        self.opened: list[GitHost] = []

    def state(self, host: GitHost) -> FakeGitHostState:
        if host not in self._states:
            state = FakeGitHostState(now=self._now)
            state.kind = host.kind
            self._states[host] = state
        return self._states[host]

    def clone_url(self, host: GitHost, repository: str) -> str:
        segments = repository.split("/")
        if len(segments) < 2 or any(not s or s in (".", "..") for s in segments):
            raise InvalidValueError("Name the repository as owner/name.", field="repository")
        return f"{host.web_url}/{repository}.git"

    def open(self, host: GitHost, access_token: str) -> GitProvider:
        self.opened.append(host)
        return FakeGitProvider(host, self.state(host), access_token)

    def installations(self, host: GitHost, access_token: str) -> GitInstallations | None:
        if host.kind is not ProviderKind.GITHUB:
            return None
        self.opened.append(host)
        return FakeGitInstallations(host, self.state(host), access_token)
