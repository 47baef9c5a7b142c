"""Provider tokens and their use cases over fakes: refresh once under concurrency (a Redis lock
across two nodes in one test), reconnect errors that keep the token, connect, list, disconnect."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from adapters.memory import InProcessLocks
from adapters.redis import RedisLocks, create_redis_client
from application.errors import DependencyUnavailableError
from application.git import (
    ConnectGitProvider,
    ConnectGitProviderRequest,
    DisconnectGitProvider,
    DisconnectGitProviderRequest,
    GetGitAccount,
    GetGitAccountRequest,
    GitConnection,
    ListGitConnections,
    ListGitConnectionsRequest,
    ProviderTokenPolicy,
    ProviderTokens,
    SelfHostedGitPolicy,
)
from application.ports.git_provider import GitInstallations, GitProvider, GitProviders
from application.ports.locks import Locks
from domain.audit.entities import AuditAction
from domain.git.entities import (
    Branch,
    GitAccount,
    Page,
    ProviderToken,
    Repository,
    RepoSort,
)
from domain.git.errors import ProviderNotConnectedError, ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.shared.errors import InvalidValueError, NotFoundError
from tests.conftest import REDIS_URL
from tests.factories import create_org
from tests.fakes import FakeLocks, FakeProviderOAuth
from tests.fakes.metrics import FakeMetrics
from tests.support.polling import until
from tests.unit.application.conftest import World

GITHUB = GitHost(ProviderKind.GITHUB)
GITLAB = GitHost(ProviderKind.GITLAB)
POLICY = ProviderTokenPolicy(refresh_margin=timedelta(minutes=5))


@dataclass
class _Provider(GitProvider):
    """One host seen through one token: the account when the token is known, else refused."""

    _host: GitHost
    token: str
    accounts: dict[str, GitAccount]
    down: bool

    @property
    def host(self) -> GitHost:
        return self._host

    async def get_account(self) -> GitAccount:
        if self.down:
            raise DependencyUnavailableError(f"{self._host.kind.value} did not answer.")
        if self._host.base_url == "https://nothing.example.com":
            raise NotFoundError
        account = self.accounts.get(self.token)
        if account is None:
            raise ProviderReconnectRequiredError(self._host.kind)
        return account

    async def list_repositories(
        self, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        raise NotImplementedError

    async def search_repositories(
        self, query: str, *, page: int, per_page: int, sort: RepoSort
    ) -> Page[Repository]:
        raise NotImplementedError

    async def list_branches(self, repository: str, *, page: int, per_page: int) -> Page[Branch]:
        raise NotImplementedError

    async def search_branches(self, repository: str, query: str, *, per_page: int) -> list[Branch]:
        raise NotImplementedError


@dataclass
class StubGitProviders(GitProviders):
    """Knows accounts by access token; records which tokens were used."""

    accounts: dict[str, GitAccount] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    down: bool = False

    def open(self, host: GitHost, access_token: str) -> GitProvider:
        self.used.append(access_token)
        return _Provider(host, access_token, self.accounts, self.down)

    def installations(self, host: GitHost, access_token: str) -> GitInstallations | None:
        return None

    def clone_url(self, host: GitHost, repository: str) -> str:
        return f"{host.web_url}/{repository}.git"

    def know(self, token: str, login: str, kind: ProviderKind = ProviderKind.GITHUB) -> None:
        self.accounts[token] = GitAccount(
            provider=kind, id_="1", login=login, name=None, email=None, avatar_url=None
        )


@dataclass
class Git:
    world: World
    oauth: FakeProviderOAuth
    providers: StubGitProviders
    locks: FakeLocks
    metrics: FakeMetrics = field(default_factory=FakeMetrics)

    def get_token(self, locks: Locks | None = None) -> ProviderTokens:
        w = self.world
        return ProviderTokens(
            w.units, self.oauth, locks or self.locks, w.clock, POLICY, self.metrics
        )

    def connect(self) -> ConnectGitProvider:
        w = self.world
        return ConnectGitProvider(self.providers, w.uow, w.clock, SelfHostedGitPolicy())

    async def connected(self, request: ConnectGitProviderRequest) -> GitConnection:
        return (await self.connect().execute(request)).connection

    async def disconnect(self, actor: Principal, provider: ProviderKind) -> None:
        w = self.world
        sut = DisconnectGitProvider(w.uow, w.clock)
        await sut.execute(DisconnectGitProviderRequest(actor=actor, provider=provider))

    async def connections(self, actor: Principal) -> list[GitConnection]:
        sut = ListGitConnections(self.world.uow)
        return (await sut.execute(ListGitConnectionsRequest(actor=actor))).connections

    def store(
        self,
        user_id: UserId,
        *,
        host: GitHost = GITHUB,
        expires_in: timedelta | None = timedelta(hours=1),
        refresh_token: str | None = "refresh-0",
        refresh_expires_in: timedelta | None = timedelta(days=30),
    ) -> ProviderToken:
        now = self.world.clock.now()
        token = ProviderToken(
            user_id=user_id,
            host=host,
            access_token="access-0",
            refresh_token=refresh_token,
            expires_at=None if expires_in is None else now + expires_in,
            refresh_expires_at=None if refresh_expires_in is None else now + refresh_expires_in,
            scopes="repo",
            updated_at=now,
        )
        if refresh_token is not None:
            self.oauth.issue(refresh_token)
        self.world.store.live.provider_tokens[(user_id, host.kind)] = token
        self.world.store.commit()
        return token

    def stored(self, user_id: UserId, kind: ProviderKind = ProviderKind.GITHUB) -> ProviderToken:
        return self.world.store.committed.provider_tokens[(user_id, kind)]


@pytest.fixture
def git(world: World) -> Git:
    return Git(
        world=world,
        oauth=FakeProviderOAuth(world.clock),
        providers=StubGitProviders(),
        locks=FakeLocks(),
    )


@pytest.fixture
def ada(world: World) -> Principal:
    actor = world.principal("sub-ada")
    org, owner = create_org(actor.user)
    world.store.live.orgs[org.id_] = org
    world.store.live.memberships[(org.id_, actor.user.id_)] = owner
    world.store.commit()
    return actor


# --- ProviderTokens ----------------------------------------------------------------------------


async def test_a_token_valid_beyond_the_margin_is_returned_without_refresh_or_lock(
    git: Git, ada: Principal
) -> None:
    stored = git.store(ada.user.id_, expires_in=timedelta(minutes=6))
    token = await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert token == stored
    assert (git.oauth.calls, git.locks.acquisitions) == ([], 0)


async def test_a_token_that_never_expires_is_never_refreshed(git: Git, ada: Principal) -> None:
    git.store(ada.user.id_, expires_in=None, refresh_token=None)
    git.world.clock.advance(timedelta(days=3650))
    token = await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert token.access_token == "access-0"
    assert git.oauth.calls == []


async def test_a_token_within_the_margin_is_refreshed_stored_and_valid_past_the_margin(
    git: Git, ada: Principal, world: World
) -> None:
    git.store(ada.user.id_, expires_in=timedelta(minutes=4))
    token = await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert git.oauth.calls == [(GITHUB, "refresh-0")]
    assert token.access_token == "access-1"
    assert token.refresh_token == "refresh-1"
    assert not token.expires_within(POLICY.refresh_margin, world.clock.now())
    assert git.stored(ada.user.id_) == token
    assert token.updated_at == world.clock.now()
    assert git.metrics.counts == {("token_refresh", "github", "refreshed"): 1}


async def test_a_hundred_concurrent_calls_on_an_expired_token_refresh_exactly_once(
    git: Git, ada: Principal
) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    git.oauth.delay = 0.05
    tokens = await asyncio.gather(
        *(git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB) for _ in range(100))
    )
    assert len(git.oauth.calls) == 1
    assert {token.access_token for token in tokens} == {"access-1"}
    assert git.locks.max_holding == 1
    assert set(git.locks.acquired) == {f"provider-token-refresh:{ada.user.id_}:github"}


async def test_without_a_shared_lock_two_nodes_refresh_twice_and_the_second_is_refused(
    git: Git, ada: Principal
) -> None:
    """The negative control of the Redis test below: with a lock per node, both nodes refresh
    with the same single-use refresh token, and the provider refuses the second."""
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    git.oauth.delay = 0.05
    nodes = (InProcessLocks(), InProcessLocks())
    results = await asyncio.gather(
        *(git.get_token(nodes[i % 2]).fresh(ada.user.id_, ProviderKind.GITHUB) for i in range(10)),
        return_exceptions=True,
    )
    assert len(git.oauth.calls) == 2
    assert any(isinstance(result, ProviderReconnectRequiredError) for result in results)


@pytest.fixture
async def two_redis_nodes() -> AsyncIterator[tuple[RedisLocks, RedisLocks]]:
    clients = [create_redis_client(REDIS_URL, timeout_s=2, max_connections=60) for _ in range(2)]
    prefix = f"maestrist-test:{secrets.token_hex(8)}:lock:"
    try:
        yield RedisLocks(clients[0], prefix=prefix), RedisLocks(clients[1], prefix=prefix)
    finally:
        leftovers = [key async for key in clients[0].scan_iter(match=f"{prefix}*")]
        if leftovers:
            await clients[0].delete(*leftovers)
        for client in clients:
            await client.aclose()


@pytest.mark.redis
async def test_two_nodes_sharing_a_redis_lock_refresh_exactly_once(
    git: Git, ada: Principal, two_redis_nodes: tuple[RedisLocks, RedisLocks]
) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    git.oauth.delay = 0.05
    tokens = await asyncio.gather(
        *(
            git.get_token(two_redis_nodes[i % 2]).fresh(ada.user.id_, ProviderKind.GITHUB)
            for i in range(50)
        )
    )
    assert len(git.oauth.calls) == 1
    assert {token.access_token for token in tokens} == {"access-1"}


async def test_a_waiter_reads_the_token_again_under_the_lock_and_uses_what_another_stored(
    git: Git, ada: Principal, world: World
) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    key = f"provider-token-refresh:{ada.user.id_}:github"
    async with git.locks.hold(key, ttl=timedelta(seconds=5), wait=timedelta(seconds=5)):
        waiting = asyncio.create_task(git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB))
        await until(lambda: git.locks.waiting[key] == 1, "a refresh waiting for the lock")
        other = git.stored(ada.user.id_)
        renewed = other.refreshed(
            access_token="from-another-node",
            refresh_token="refresh-9",
            expires_at=world.clock.now() + timedelta(hours=1),
            refresh_expires_at=None,
            scopes=None,
            now=world.clock.now(),
        )
        world.store.live.provider_tokens[(ada.user.id_, ProviderKind.GITHUB)] = renewed
        world.store.commit()
    token = await waiting
    assert token.access_token == "from-another-node"
    assert git.oauth.calls == []


async def test_no_token_is_not_connected(git: Git, ada: Principal) -> None:
    with pytest.raises(ProviderNotConnectedError) as raised:
        await git.get_token().fresh(ada.user.id_, ProviderKind.GITLAB)
    assert raised.value.provider is ProviderKind.GITLAB


async def test_a_refused_refresh_asks_to_reconnect_that_provider_and_keeps_the_token(
    git: Git, ada: Principal
) -> None:
    stored = git.store(ada.user.id_, host=GITLAB, expires_in=-timedelta(minutes=1))
    git.oauth.refuse = True
    with pytest.raises(ProviderReconnectRequiredError) as raised:
        await git.get_token().fresh(ada.user.id_, ProviderKind.GITLAB)
    assert raised.value.provider is ProviderKind.GITLAB
    assert git.stored(ada.user.id_, ProviderKind.GITLAB) == stored
    assert git.metrics.counts == {("token_refresh", "gitlab", "refused"): 1}


@pytest.mark.parametrize(
    "case", ["no refresh token", "refresh token expired", "no OAuth app for the host"]
)
async def test_a_token_that_cannot_be_refreshed_asks_to_reconnect_and_is_kept(
    git: Git, ada: Principal, world: World, case: str
) -> None:
    if case == "no refresh token":
        stored = git.store(ada.user.id_, expires_in=timedelta(minutes=1), refresh_token=None)
    elif case == "refresh token expired":
        stored = git.store(
            ada.user.id_, expires_in=timedelta(hours=1), refresh_expires_in=timedelta(hours=2)
        )
        world.clock.advance(timedelta(hours=3))
    else:
        git.oauth = FakeProviderOAuth(world.clock, hosts={GITLAB})
        stored = git.store(ada.user.id_, expires_in=timedelta(minutes=1))
    with pytest.raises(ProviderReconnectRequiredError) as raised:
        await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert raised.value.provider is ProviderKind.GITHUB
    assert git.oauth.calls == []
    assert git.stored(ada.user.id_) == stored


async def test_an_outage_is_unavailable_and_changes_nothing(git: Git, ada: Principal) -> None:
    stored = git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    git.oauth.down = True
    with pytest.raises(DependencyUnavailableError):
        await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert git.stored(ada.user.id_) == stored
    assert git.metrics.counts == {("token_refresh", "github", "unavailable"): 1}
    git.oauth.down = False
    token = await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert token.access_token == "access-1"


async def test_a_lock_that_stays_busy_is_unavailable(git: Git, ada: Principal) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    quick = ProviderTokens(
        git.world.units,
        git.oauth,
        git.locks,
        git.world.clock,
        ProviderTokenPolicy(lock_wait=timedelta(milliseconds=20)),
        git.metrics,
    )
    key = f"provider-token-refresh:{ada.user.id_}:github"
    async with git.locks.hold(key, ttl=timedelta(seconds=5), wait=timedelta(seconds=5)):
        with pytest.raises(DependencyUnavailableError):
            await quick.fresh(ada.user.id_, ProviderKind.GITHUB)
    assert git.oauth.calls == []


async def test_a_disconnect_during_the_refresh_is_not_undone(
    git: Git, ada: Principal, world: World
) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))

    def disconnect() -> None:
        del world.store.live.provider_tokens[(ada.user.id_, ProviderKind.GITHUB)]
        world.store.commit()

    git.oauth.on_call = disconnect
    with pytest.raises(ProviderNotConnectedError):
        await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert world.store.committed.provider_tokens == {}


async def test_a_reconnect_during_the_refresh_wins_over_the_refresh(
    git: Git, ada: Principal, world: World
) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))

    def reconnect() -> None:
        world.clock.advance(timedelta(seconds=1))
        git.store(ada.user.id_, expires_in=None, refresh_token=None)

    git.oauth.on_call = reconnect
    token = await git.get_token().fresh(ada.user.id_, ProviderKind.GITHUB)
    assert token.expires_at is None
    assert git.stored(ada.user.id_) == token


async def test_get_account_uses_the_refreshed_token(git: Git, ada: Principal) -> None:
    git.store(ada.user.id_, expires_in=-timedelta(minutes=1))
    git.providers.know("access-1", "ada")
    sut = GetGitAccount(git.get_token(), git.providers)
    found = await sut.execute(GetGitAccountRequest(actor=ada, provider=ProviderKind.GITHUB))
    assert found.account.login == "ada"
    assert git.providers.used == ["access-1"]


# --- ConnectGitProvider, ListGitConnections, DisconnectGitProvider -------------------------------


async def test_connect_checks_the_token_then_stores_it_without_expiry_and_audits(
    git: Git, ada: Principal, world: World
) -> None:
    git.providers.know("ghp_valid", "ada")
    connection = await git.connected(
        ConnectGitProviderRequest(actor=ada, provider=ProviderKind.GITHUB, token=" ghp_valid ")
    )
    stored = git.stored(ada.user.id_)
    assert (stored.access_token, stored.expires_at, stored.refresh_token) == (
        "ghp_valid",
        None,
        None,
    )
    assert (connection.provider, connection.base_url, connection.refreshable) == (
        ProviderKind.GITHUB,
        None,
        False,
    )
    events = [e for e in world.store.committed.audit if e.target_type == "git_provider"]
    assert [(e.action, e.target_id, e.actor_id) for e in events] == [
        (AuditAction.GIT_PROVIDER_CONNECTED, "github", ada.user.id_)
    ]
    assert "ghp_valid" not in repr(events) + repr(connection)


async def test_connect_a_self_hosted_gitlab_keeps_its_base_url(git: Git, ada: Principal) -> None:
    git.providers.know("glpat-x", "ada", ProviderKind.GITLAB)
    connection = await git.connected(
        ConnectGitProviderRequest(
            actor=ada,
            provider=ProviderKind.GITLAB,
            token="glpat-x",
            base_url="https://git.example.com/",
        )
    )
    assert connection.base_url == "https://git.example.com"
    assert git.stored(ada.user.id_, ProviderKind.GITLAB).host == GitHost(
        ProviderKind.GITLAB, "https://git.example.com"
    )


async def test_connect_replaces_an_earlier_token(git: Git, ada: Principal) -> None:
    git.store(ada.user.id_, expires_in=timedelta(hours=1))
    git.providers.know("ghp_new", "ada")
    await git.connect().execute(
        ConnectGitProviderRequest(actor=ada, provider=ProviderKind.GITHUB, token="ghp_new")
    )
    assert git.stored(ada.user.id_).access_token == "ghp_new"
    assert git.stored(ada.user.id_).expires_at is None


@pytest.mark.parametrize(
    ("provider", "token", "base_url", "field_"),
    [
        (ProviderKind.GITHUB, "ghp_unknown", None, "token"),
        (ProviderKind.GITHUB, "", None, "token"),
        (ProviderKind.GITHUB, "two words", None, "token"),
        (ProviderKind.GITHUB, "x" * 4097, None, "token"),
        (ProviderKind.GITHUB, "tok\u00e9n", None, "token"),
        (ProviderKind.BITBUCKET, "ada:", None, "token"),
        (ProviderKind.BITBUCKET, ":secret", None, "token"),
        (ProviderKind.BITBUCKET, "ada:secret", "https://bb.example.com", "base_url"),
        (ProviderKind.GITHUB, "ghp_valid", "ftp://ghe.example.com", "base_url"),
        (ProviderKind.GITHUB, "ghp_valid", "https://nothing.example.com", "base_url"),
    ],
)
async def test_connect_refuses_bad_input_naming_the_field_and_stores_nothing(
    git: Git,
    ada: Principal,
    world: World,
    provider: ProviderKind,
    token: str,
    base_url: str | None,
    field_: str,
) -> None:
    git.providers.know("ghp_valid", "ada")
    with pytest.raises(InvalidValueError) as raised:
        await git.connect().execute(
            ConnectGitProviderRequest(actor=ada, provider=provider, token=token, base_url=base_url)
        )
    assert raised.value.field == field_
    assert world.store.committed.provider_tokens == {}


async def test_a_bitbucket_app_password_is_accepted_as_username_colon_password(
    git: Git, ada: Principal
) -> None:
    git.providers.know("ada:app-password", "ada", ProviderKind.BITBUCKET)
    await git.connect().execute(
        ConnectGitProviderRequest(
            actor=ada, provider=ProviderKind.BITBUCKET, token="ada:app-password"
        )
    )
    assert git.stored(ada.user.id_, ProviderKind.BITBUCKET).access_token == "ada:app-password"


async def test_connect_during_a_provider_outage_is_unavailable_and_stores_nothing(
    git: Git, ada: Principal, world: World
) -> None:
    git.providers.down = True
    with pytest.raises(DependencyUnavailableError):
        await git.connect().execute(
            ConnectGitProviderRequest(actor=ada, provider=ProviderKind.GITHUB, token="ghp_x")
        )
    assert world.store.committed.provider_tokens == {}


async def test_list_shows_only_the_callers_connections_and_never_a_token(
    git: Git, ada: Principal, world: World
) -> None:
    bob = world.principal("sub-bob")
    git.store(ada.user.id_, host=GITLAB)
    git.store(ada.user.id_)
    git.store(bob.user.id_)
    mine = await git.connections(ada)
    assert [c.provider for c in mine] == [ProviderKind.GITHUB, ProviderKind.GITLAB]
    assert all(c.refreshable for c in mine)
    assert "access-0" not in repr(mine)
    assert "refresh-0" not in repr(mine)
    assert [c.provider for c in await git.connections(bob)] == [ProviderKind.GITHUB]


async def test_disconnect_forgets_only_the_callers_token_and_audits(
    git: Git, ada: Principal, world: World
) -> None:
    bob = world.principal("sub-bob")
    git.store(ada.user.id_)
    git.store(bob.user.id_)
    await git.disconnect(ada, ProviderKind.GITHUB)
    assert set(world.store.committed.provider_tokens) == {(bob.user.id_, ProviderKind.GITHUB)}
    assert [e.action for e in world.store.committed.audit] == [
        AuditAction.GIT_PROVIDER_DISCONNECTED
    ]
    with pytest.raises(ProviderNotConnectedError):
        await git.disconnect(ada, ProviderKind.GITHUB)
