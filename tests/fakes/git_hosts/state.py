"""What a fake git host knows (accounts, tokens, repositories, branches, installations) and the
switches tests flip (outage, rate limit, malformed answers, refused refreshes, a slow token
endpoint). Thread-safe: every request has a thread of its own."""

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.git.providers import ProviderKind

__all__ = (
    "FakeAccount",
    "FakeBranch",
    "FakeGitHostState",
    "FakeInstallation",
    "FakeRepo",
    "RecordedCall",
    "Reply",
)

_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request the fake answered."""

    method: str
    path: str
    """Raw path, without the query (percent-escapes kept, as sent)."""
    query: Mapping[str, list[str]]
    body: Any
    authorization: str | None
    status: int


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class FakeAccount:
    id_: int
    login: str
    name: str | None
    email: str | None
    avatar_url: str | None
    organization: bool = False
    members: set[str] = field(default_factory=set)
    """An organization's members."""


@dataclass(slots=True)
class FakeBranch:
    name: str
    sha: str
    protected: bool = False
    committed_at: datetime = _EPOCH


@dataclass(slots=True)
class FakeRepo:
    id_: int
    full_name: str
    """``owner/name``; on GitLab the owner may be a nested group path ``a/b``."""
    private: bool
    default_branch: str | None
    owner_type: str
    """``User`` or ``Organization`` (GitLab groups and Bitbucket teams answer as such)."""
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    stars: int
    members: set[str]
    installation_id: int | None
    branches: list[FakeBranch] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Files of its first commit (by path) besides its README, for clones."""

    @property
    def owner(self) -> str:
        return self.full_name.rsplit("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.rsplit("/", 1)[1]


@dataclass(slots=True)
class FakeInstallation:
    id_: int
    account_login: str
    account_type: str
    members: set[str]


@dataclass(slots=True)
class _AccessToken:
    login: str
    expires_at: datetime | None
    scopes: str


@dataclass(slots=True)
class _RefreshToken:
    login: str
    expires_at: datetime | None
    used: bool = False


class FakeGitHostState:
    """The data and switches of one fake host. Tests configure it through these methods; the
    provider-specific ``route`` of a subclass answers requests from it."""

    kind: ProviderKind
    access_lifetime_s: int = 28800
    refresh_lifetime_s: int | None = 15811200

    def __init__(
        self,
        *,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        """What time the fake thinks it is; pass ``FakeClock.now`` to share a test's clock."""
        self.base_url = ""
        """``http://127.0.0.1:<port>``, set once the server listens."""
        self._lock = threading.Lock()
        self._ids = itertools.count(1001)
        self._accounts: dict[str, FakeAccount] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._repos: dict[str, FakeRepo] = {}
        self._installations: dict[int, FakeInstallation] = {}
        self._calls: list[RecordedCall] = []
        self._issued: list[tuple[str, str]] = []
        self._refresh_calls = 0
        self._refreshing = 0
        self._most_refreshing = 0
        # Switches a test may flip at any time (a plain attribute write is atomic):
        self.outage: int | None = None
        """A status (500, 502, 503) every route answers with; None serves normally."""
        self.refuse_refresh = False
        """The token endpoint refuses every refresh token as invalid."""
        self.malformed = False
        """Every API route answers 200 with a body that is not JSON."""
        self.rate_limited = False
        """API routes answer as the host does once its rate limit is spent."""
        self.token_delay_s = 0.0
        """Seconds the token endpoint waits before answering, so racing refreshes overlap."""

    # ---- what tests set up ----------------------------------------------------------------

    def add_user(
        self,
        login: str,
        *,
        name: str | None = None,
        email: str | None = None,
        avatar_url: str | None = None,
        organization: bool = False,
        members: Iterable[str] = (),
    ) -> FakeAccount:
        """An account (a person, or with ``organization`` an org / group / team whose
        ``members`` belong to it)."""
        with self._lock:
            account = FakeAccount(
                next(self._ids),
                login,
                name,
                email,
                avatar_url,
                organization=organization,
                members=set(members),
            )
            self._accounts[login] = account
            return account

    def issue_token(
        self,
        login: str,
        *,
        token: str | None = None,
        expires_in: float | None = None,
        scopes: str = "repo read:org",
    ) -> str:
        """A live access token of ``login``; with ``expires_in`` seconds it stops working then
        (on the fake's ``now``)."""
        value = token or f"fake-access-{secrets.token_urlsafe(12)}"
        with self._lock:
            assert login in self._accounts, f"add_user({login!r}) first"
            expires = None if expires_in is None else self.now() + timedelta(seconds=expires_in)
            self._access[value] = _AccessToken(login, expires, scopes)
            self._issued.append((login, value))
        return value

    def issue_refresh_token(
        self, login: str, *, token: str | None = None, expires_in: float | None = None
    ) -> str:
        """A refresh token of ``login``: works once, and the refresh rotates it."""
        value = token or f"fake-refresh-{secrets.token_urlsafe(12)}"
        with self._lock:
            assert login in self._accounts, f"add_user({login!r}) first"
            expires = None if expires_in is None else self.now() + timedelta(seconds=expires_in)
            self._refresh[value] = _RefreshToken(login, expires)
            self._issued.append((login, value))
        return value

    def revoke(self, token: str) -> None:
        """Forget an access or refresh token, as a user revoking the app would."""
        with self._lock:
            self._access.pop(token, None)
            self._refresh.pop(token, None)

    def expire(self, token: str) -> None:
        """Make an access token expired now."""
        with self._lock:
            self._access[token].expires_at = self.now() - timedelta(seconds=1)

    def add_repo(
        self,
        full_name: str,
        *,
        members: Iterable[str] = (),
        private: bool = True,
        default_branch: str | None = "main",
        branches: Iterable[str] | None = None,
        pushed_at: datetime | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        stars: int = 0,
        installation_id: int | None = None,
        files: dict[str, str] | None = None,
    ) -> FakeRepo:
        """A repository ``owner/name`` that ``members`` (and the owner, if a user) can see; a
        public one anyone can read but only members list. ``branches`` defaults to the default
        branch alone; ``files`` are in its first commit, for clones."""
        owner = full_name.rsplit("/", 1)[0]
        with self._lock:
            account = self._accounts.get(owner.split("/", 1)[0])
            owner_type = "Organization" if account is None or account.organization else "User"
            seen = set(members)
            if owner_type == "User":
                seen.add(owner)
            identity = next(self._ids)
            moment = pushed_at or _EPOCH + timedelta(hours=identity)
            repo = FakeRepo(
                id_=identity,
                full_name=full_name,
                private=private,
                default_branch=default_branch,
                owner_type=owner_type,
                created_at=created_at or moment,
                updated_at=updated_at or moment,
                pushed_at=moment,
                stars=stars,
                members=seen,
                installation_id=installation_id,
                files=dict(files or {}),
            )
            names = list(branches) if branches is not None else [default_branch or "main"]
            repo.branches = [
                FakeBranch(name, secrets.token_hex(20), committed_at=moment) for name in names
            ]
            self._repos[full_name] = repo
            return repo

    def add_branch(self, full_name: str, name: str, *, protected: bool = False) -> FakeBranch:
        with self._lock:
            branch = FakeBranch(name, secrets.token_hex(20), protected=protected)
            self._repos[full_name].branches.append(branch)
            return branch

    def add_installation(
        self,
        installation_id: int,
        account_login: str,
        *,
        account_type: str = "Organization",
        members: Iterable[str] = (),
    ) -> FakeInstallation:
        """A GitHub App installation on ``account_login`` (of ``account_type`` ``User``,
        ``Organization`` or ``Enterprise``) that ``members`` can reach; its repositories are
        those added with this ``installation_id``."""
        with self._lock:
            installation = FakeInstallation(
                installation_id, account_login, account_type, set(members)
            )
            self._installations[installation_id] = installation
            return installation

    # ---- what tests read back --------------------------------------------------------------

    @property
    def refresh_calls(self) -> int:
        """Requests the token endpoint received (counted on arrival, before any delay)."""
        with self._lock:
            return self._refresh_calls

    @property
    def most_concurrent_refreshes(self) -> int:
        """The most token requests the endpoint held at once (with ``token_delay_s``, so
        requests that overlap are seen to)."""
        with self._lock:
            return self._most_refreshing

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def issued_tokens(self, login: str) -> list[str]:
        """Every access and refresh token ever issued to ``login`` (by tests or by refreshes),
        oldest first, revoked and spent ones included."""
        with self._lock:
            return [token for owner, token in self._issued if owner == login]

    def live_access_tokens(self, login: str) -> list[str]:
        now = self.now()
        with self._lock:
            return [
                token
                for token, held in self._access.items()
                if held.login == login and (held.expires_at is None or held.expires_at > now)
            ]

    def account(self, login: str) -> FakeAccount | None:
        with self._lock:
            return self._accounts.get(login)

    def repo(self, full_name: str) -> FakeRepo:
        with self._lock:
            return self._repos[full_name]

    def accounts(self) -> list[FakeAccount]:
        with self._lock:
            return list(self._accounts.values())

    # ---- helpers for the routes ------------------------------------------------------------

    def record(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def account_for(self, token: str | None) -> FakeAccount | None:
        """The account a live access token belongs to."""
        if not token:
            return None
        return self._account_of_access(token)

    def account_for_app_password(self, username: str, password: str) -> FakeAccount | None:
        """Bitbucket's HTTP Basic: a live token used as the app password of its own user."""
        account = self._account_of_access(password)
        return account if account is not None and account.login == username else None

    def _account_of_access(self, token: str) -> FakeAccount | None:
        now = self.now()
        with self._lock:
            held = self._access.get(token)
            if held is None or (held.expires_at is not None and held.expires_at <= now):
                return None
            return self._accounts.get(held.login)

    def member_repos(self, login: str) -> list[FakeRepo]:
        """Repositories ``login`` is a member of, in insertion order."""
        with self._lock:
            return [repo for repo in self._repos.values() if login in repo.members]

    def readable_repo(self, login: str, full_name: str) -> FakeRepo | None:
        """The repository if ``login`` may read it (member, or public)."""
        with self._lock:
            repo = self._repos.get(full_name)
        if repo is None or (repo.private and login not in repo.members):
            return None
        return repo

    def visible_repos(self, login: str) -> list[FakeRepo]:
        """Every repository ``login`` may read: their own, and public ones."""
        with self._lock:
            return [r for r in self._repos.values() if not r.private or login in r.members]

    def organizations_of(self, login: str) -> list[FakeAccount]:
        """The organizations ``login`` belongs to: named a member, or a member of one of its
        repositories."""
        with self._lock:
            owners = {r.owner for r in self._repos.values() if login in r.members}
            return sorted(
                (
                    a
                    for a in self._accounts.values()
                    if a.organization and (login in a.members or a.login in owners)
                ),
                key=lambda a: a.login,
            )

    def installations_of(self, login: str) -> list[FakeInstallation]:
        with self._lock:
            return sorted(
                (i for i in self._installations.values() if login in i.members),
                key=lambda i: i.id_,
            )

    def installation_repos(self, installation_id: int) -> list[FakeRepo]:
        with self._lock:
            return [r for r in self._repos.values() if r.installation_id == installation_id]

    def client_matches(self, client_id: str | None, client_secret: str | None) -> bool:
        return secrets.compare_digest(
            f"{client_id}\0{client_secret}", f"{self.client_id}\0{self.client_secret}"
        )

    def count_refresh(self) -> None:
        with self._lock:
            self._refresh_calls += 1
            self._refreshing += 1
            self._most_refreshing = max(self._most_refreshing, self._refreshing)
            delay = self.token_delay_s
        try:
            if delay:
                time.sleep(delay)
        finally:
            with self._lock:
                self._refreshing -= 1

    def redeem(self, refresh_token: str) -> tuple[str, str, int, int | None, str] | None:
        """Trade a refresh token once: the new access token, the new (rotated) refresh token,
        their lifetimes in seconds and the scopes; None if it is unknown, used, expired or
        refused."""
        now = self.now()
        with self._lock:
            held = self._refresh.get(refresh_token)
            if (
                self.refuse_refresh
                or held is None
                or held.used
                or (held.expires_at is not None and held.expires_at <= now)
                or held.login not in self._accounts
            ):
                return None
            held.used = True
            access = f"fake-access-{secrets.token_urlsafe(12)}"
            refresh = f"fake-refresh-{secrets.token_urlsafe(12)}"
            access_life = self.access_lifetime_s
            refresh_life = self.refresh_lifetime_s
            self._access[access] = _AccessToken(
                held.login, now + timedelta(seconds=access_life), "repo read:org"
            )
            self._refresh[refresh] = _RefreshToken(
                held.login,
                None if refresh_life is None else now + timedelta(seconds=refresh_life),
            )
            self._issued += [(held.login, access), (held.login, refresh)]
            return access, refresh, access_life, refresh_life, "repo read:org"
