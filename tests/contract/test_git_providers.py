"""The GitProvider and GitInstallations contracts: the in-memory fake and the httpx adapters
against loopback fakes of GitHub (as github.com and as an Enterprise server), GitLab (as
gitlab.com and self-managed) and Bitbucket Cloud, all seeded alike through the hosts' state.
Only GitHub has installations."""

import socket
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.git_providers import CloudUrls, HttpxGitProviders, create_http_client
from application.errors import DependencyUnavailableError
from application.ports.git_provider import GitInstallations, GitProvider, GitProviders
from domain.git.entities import RepoSort
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import InvalidValueError, NotFoundError
from tests.fakes.git_hosts import (
    FakeGitHostState,
    run_fake_bitbucket,
    run_fake_github,
    run_fake_gitlab,
)
from tests.fakes.git_providers import FakeGitProviders
from tests.support.ports import closed_port

T0 = datetime(2025, 6, 1, tzinfo=UTC)
ALICE, BOB = "alice", "bob"
WORLDS = [
    "memory-github",
    "memory-gitlab",
    "memory-bitbucket",
    "github",
    "github-enterprise",
    "gitlab",
    "gitlab-self-hosted",
    "bitbucket",
]


@dataclass
class World:
    """One provider's host: its state to seed and flip, and the port to test against it."""

    state: FakeGitHostState
    host: GitHost
    providers: GitProviders
    over_http: bool

    @property
    def kind(self) -> ProviderKind:
        return self.host.kind

    def _token(self, login: str) -> str:
        if self.state.account(login) is None:
            self.state.add_user(login, name=login.title(), email=f"{login}@example.com")
        return self.state.issue_token(login)

    def as_user(self, login: str = ALICE) -> GitProvider:
        return self.providers.open(self.host, self._token(login))

    def installations_as(self, login: str = ALICE) -> GitInstallations | None:
        return self.providers.installations(self.host, self._token(login))


@pytest.fixture(params=WORLDS)
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    name: str = request.param
    if name.startswith("memory-"):
        fake = FakeGitProviders()
        host = GitHost(ProviderKind(name.removeprefix("memory-")))
        yield World(fake.state(host), host, fake, over_http=False)
        return
    run = {"github": run_fake_github, "gitlab": run_fake_gitlab, "bitbucket": run_fake_bitbucket}
    kind = ProviderKind(name.split("-", maxsplit=1)[0])
    with ExitStack() as stack:
        fake_host = stack.enter_context(run[kind.value]())
        client = create_http_client(timeout_s=5.0, connect_timeout_s=2.0)
        try:
            if name.endswith(("-enterprise", "-self-hosted")):
                host, urls = GitHost(kind, fake_host.base_url), CloudUrls()
            else:
                host = GitHost(kind)
                urls = CloudUrls(**{kind.value: fake_host.base_url})
            yield World(fake_host, host, HttpxGitProviders(client, urls), over_http=True)
        finally:
            await client.aclose()


def _seed_repos(world: World, count: int, owner: str = ALICE) -> list[str]:
    names = []
    for index in range(count):
        full_name = f"{owner}/repo-{index:02d}"
        world.state.add_repo(full_name, pushed_at=T0 + timedelta(hours=(index * 7) % count))
        names.append(full_name)
    return names


async def _all_pages(fetch: "PageFetcher", per_page: int) -> list[str]:
    seen: list[str] = []
    page: int | None = 1
    while page is not None:
        result = await fetch(page, per_page)
        assert len(result.items) <= per_page
        seen.extend(result.names)
        assert page < 50, "paging does not end"
        page = result.next_page
    return seen


@dataclass
class Names:
    names: list[str]
    next_page: int | None
    items: list[object]


class PageFetcher:
    def __init__(self, provider: GitProvider, what: str, **kwargs: object) -> None:
        self.provider, self.what, self.kwargs = provider, what, kwargs

    async def __call__(self, page: int, per_page: int) -> Names:
        if self.what == "branches":
            branches = await self.provider.list_branches(
                str(self.kwargs["repository"]), page=page, per_page=per_page
            )
            return Names([b.name for b in branches.items], branches.next_page, [*branches.items])
        if self.what == "search":
            repos = await self.provider.search_repositories(
                str(self.kwargs["query"]), page=page, per_page=per_page, sort=RepoSort.NAME
            )
        else:
            repos = await self.provider.list_repositories(
                page=page, per_page=per_page, sort=RepoSort.NAME
            )
        return Names([r.full_name for r in repos.items], repos.next_page, [*repos.items])


# ---- account ----------------------------------------------------------------------------------


async def test_the_account_is_the_token_owner(world: World) -> None:
    world.state.add_user(BOB, name="Bob", email="bob@example.com")
    sut = world.as_user(ALICE)

    account = await sut.get_account()

    assert account.provider is world.kind
    assert account.login == ALICE
    assert account.name == "Alice"
    assert account.email == "alice@example.com"
    assert account.id_
    assert sut.host == world.host


# ---- repositories -----------------------------------------------------------------------------


async def test_listing_pages_through_every_repository_once(world: World) -> None:
    sut = world.as_user(ALICE)
    world.state.add_user(BOB)
    mine = _seed_repos(world, 7)
    _seed_repos(world, 2, owner=BOB)

    seen = await _all_pages(PageFetcher(sut, "repositories"), per_page=3)

    assert sorted(seen) == sorted(mine)
    assert len(seen) == len(set(seen))


async def test_listing_details_a_repository(world: World) -> None:
    sut = world.as_user(ALICE)
    world.state.add_repo("alice/app", default_branch="trunk", private=False, pushed_at=T0)

    page = await sut.list_repositories(page=1, per_page=10, sort=RepoSort.PUSHED)

    (repo,) = page.items
    assert repo.provider is world.kind
    assert repo.full_name == "alice/app"
    assert repo.id_
    assert not repo.is_private
    assert repo.default_branch == "trunk"
    assert repo.pushed_at == T0
    assert repo.owner_type == "user"
    assert page.next_page is None


async def test_listing_sorts_by_name_or_by_last_push(world: World) -> None:
    sut = world.as_user(ALICE)
    for name, hours in (("alice/cherry", 3), ("alice/apple", 1), ("alice/banana", 2)):
        world.state.add_repo(name, pushed_at=T0 + timedelta(hours=hours))

    by_name = await sut.list_repositories(page=1, per_page=10, sort=RepoSort.NAME)
    by_push = await sut.list_repositories(page=1, per_page=10, sort=RepoSort.PUSHED)

    assert [r.full_name for r in by_name.items] == ["alice/apple", "alice/banana", "alice/cherry"]
    assert [r.full_name for r in by_push.items] == ["alice/cherry", "alice/banana", "alice/apple"]


async def test_per_page_is_bounded_and_pages_start_at_one(world: World) -> None:
    sut = world.as_user(ALICE)
    _seed_repos(world, 3)

    tiny = await sut.list_repositories(page=1, per_page=0, sort=RepoSort.NAME)
    huge = await sut.list_repositories(page=1, per_page=10_000, sort=RepoSort.NAME)

    assert len(tiny.items) == 1
    assert tiny.next_page == 2
    assert len(huge.items) == 3
    with pytest.raises(InvalidValueError) as caught:
        await sut.list_repositories(page=0, per_page=10, sort=RepoSort.NAME)
    assert caught.value.field == "page"


async def test_an_organization_repository_says_so(world: World) -> None:
    world.state.add_user("acme", organization=True)
    sut = world.as_user(ALICE)
    world.state.add_repo("acme/platform", members=[ALICE])

    page = await sut.list_repositories(page=1, per_page=10, sort=RepoSort.NAME)

    assert [(r.full_name, r.owner_type) for r in page.items] == [("acme/platform", "organization")]


# ---- installations ----------------------------------------------------------------------------


async def test_installations_are_github_apps_only(world: World) -> None:
    world.state.add_user("acme", organization=True)
    sut = world.installations_as(ALICE)
    world.state.add_user(BOB)
    world.state.add_installation(7, "acme", members=[ALICE])
    world.state.add_installation(8, "other", members=[BOB])
    world.state.add_installation(9, "bigcorp", account_type="Enterprise", members=[ALICE])
    world.state.add_repo("acme/one", members=[ALICE], installation_id=7)
    world.state.add_repo("acme/two", members=[ALICE], installation_id=7)
    world.state.add_repo("acme/three", members=[ALICE])

    if world.kind is not ProviderKind.GITHUB:
        assert sut is None
        return
    assert sut is not None
    installations = await sut.list_installations()
    assert [(i.id_, i.account_login, i.account_type) for i in installations] == [
        ("7", "acme", "Organization"),
        ("9", "bigcorp", "Enterprise"),
    ]
    first = await sut.list_installation_repositories("7", page=1, per_page=1)
    assert first.next_page == 2
    second = await sut.list_installation_repositories("7", page=2, per_page=1)
    repos = first.items + second.items
    assert {r.full_name for r in repos} == {"acme/one", "acme/two"}
    assert {r.installation_id for r in repos} == {"7"}
    assert second.next_page is None
    with pytest.raises(NotFoundError) as unreachable:
        await sut.list_installation_repositories("8", page=1, per_page=10)
    assert unreachable.value.field == "installation_id"
    with pytest.raises(InvalidValueError) as hostile:
        await sut.list_installation_repositories("7/../../user", page=1, per_page=10)
    assert hostile.value.field == "installation_id"


# ---- search -----------------------------------------------------------------------------------


async def test_search_finds_the_users_repositories_by_name(world: World) -> None:
    sut = world.as_user(ALICE)
    world.state.add_user(BOB)
    for name in ("alice/web-app", "alice/web-site", "alice/api", "alice/old-WEB"):
        world.state.add_repo(name)
    world.state.add_repo("bob/web-secret")
    world.state.add_repo("bob/web-public", private=False)
    world.state.add_user("acme", organization=True, members=[ALICE])
    world.state.add_repo("acme/web-shared", members=[ALICE])

    found = await _all_pages(PageFetcher(sut, "search", query="web"), per_page=2)

    assert sorted(found) == ["acme/web-shared", "alice/old-WEB", "alice/web-app", "alice/web-site"]
    none = await sut.search_repositories("nothing-like-it", page=1, per_page=10, sort=RepoSort.NAME)
    assert none.items == []
    assert none.next_page is None


@pytest.mark.parametrize("query", ["", "   ", "a\nb", "x" * 201])
async def test_search_refuses_unusable_text(world: World, query: str) -> None:
    sut = world.as_user(ALICE)

    with pytest.raises(InvalidValueError) as caught:
        await sut.search_repositories(query, page=1, per_page=10, sort=RepoSort.NAME)

    assert caught.value.field == "query"


# ---- branches ---------------------------------------------------------------------------------


async def test_branches_page_through_every_branch_once(world: World) -> None:
    sut = world.as_user(ALICE)
    names = ["main", "dev", "feature/login", "fix-login", "release/1.0"]
    world.state.add_repo("alice/app", branches=names)

    seen = await _all_pages(PageFetcher(sut, "branches", repository="alice/app"), per_page=2)

    assert sorted(seen) == sorted(names)
    assert len(seen) == len(set(seen))


async def test_a_branch_carries_its_commit_and_protection(world: World) -> None:
    sut = world.as_user(ALICE)
    world.state.add_repo("alice/app", branches=[])
    protected = world.state.add_branch("alice/app", "main", protected=True)

    page = await sut.list_branches("alice/app", page=1, per_page=10)
    found = await sut.search_branches("alice/app", "mai", per_page=10)

    assert [(b.name, b.commit_sha) for b in page.items] == [("main", protected.sha)]
    assert [(b.name, b.commit_sha) for b in found] == [("main", protected.sha)]
    if world.kind is not ProviderKind.BITBUCKET:  # Bitbucket's restrictions are not read
        assert page.items[0].protected
        assert found[0].protected


async def test_branch_search_finds_names_that_contain_the_text(world: World) -> None:
    sut = world.as_user(ALICE)
    world.state.add_repo("alice/app", branches=["main", "dev", "feature/login", "fix-LOGIN"])

    found = await sut.search_branches("alice/app", "login", per_page=10)

    assert sorted(b.name for b in found) == ["feature/login", "fix-LOGIN"]
    assert await sut.search_branches("alice/app", "nope", per_page=10) == []


async def test_a_public_repository_of_someone_else_shows_its_branches(world: World) -> None:
    world.state.add_user(BOB)
    sut = world.as_user(ALICE)
    world.state.add_repo("bob/open", private=False, branches=["main", "next"])

    page = await sut.list_branches("bob/open", page=1, per_page=10)

    assert sorted(b.name for b in page.items) == ["main", "next"]


async def test_a_repository_the_user_cannot_see_is_not_found(world: World) -> None:
    world.state.add_user(BOB)
    sut = world.as_user(ALICE)
    world.state.add_repo("bob/private", branches=["main"])

    for repository in ("bob/private", "alice/missing"):
        with pytest.raises(NotFoundError) as listed:
            await sut.list_branches(repository, page=1, per_page=10)
        assert listed.value.field == "repository"
        with pytest.raises(NotFoundError):
            await sut.search_branches(repository, "main", per_page=10)


async def test_gitlab_addresses_nested_groups_by_their_full_path(world: World) -> None:
    if world.kind is not ProviderKind.GITLAB:
        pytest.skip("nested namespaces are GitLab's")
    world.state.add_user("acme", organization=True)
    sut = world.as_user(ALICE)
    world.state.add_repo("acme/platform/api", members=[ALICE], branches=["main", "dev"])

    page = await sut.list_branches("acme/platform/api", page=1, per_page=10)
    listed = await sut.list_repositories(page=1, per_page=10, sort=RepoSort.NAME)

    assert sorted(b.name for b in page.items) == ["dev", "main"]
    assert [(r.full_name, r.owner_type) for r in listed.items] == [
        ("acme/platform/api", "organization")
    ]


HOSTILE = [
    "../etc",
    "alice/..",
    "alice/../bob/x",
    "alice/app?per_page=1",
    "alice/app#x",
    "alice//app",
    "/alice/app",
    "alice/app/",
    "alice",
    "alice/app name",
    "alice/%2e%2e",
    "alice/app\n",
    "",
]


@pytest.mark.parametrize("repository", HOSTILE)
async def test_a_crafted_repository_name_is_refused_before_any_call(
    world: World, repository: str
) -> None:
    sut = world.as_user(ALICE)
    world.state.add_repo("alice/app")
    before = len(world.state.calls)

    with pytest.raises(InvalidValueError) as listed:
        await sut.list_branches(repository, page=1, per_page=10)
    with pytest.raises(InvalidValueError) as searched:
        await sut.search_branches(repository, "main", per_page=10)

    assert listed.value.field == searched.value.field == "repository"
    assert len(world.state.calls) == before


async def test_three_segments_name_a_repository_on_gitlab_only(world: World) -> None:
    sut = world.as_user(ALICE)

    if world.kind is ProviderKind.GITLAB:
        with pytest.raises(NotFoundError):
            await sut.list_branches("a/b/c", page=1, per_page=10)
    else:
        with pytest.raises(InvalidValueError):
            await sut.list_branches("a/b/c", page=1, per_page=10)


# ---- failures ---------------------------------------------------------------------------------


async def test_an_unknown_or_expired_token_asks_to_reconnect(world: World) -> None:
    world.state.add_user(ALICE)
    world.state.add_repo("alice/app")
    expired = world.state.issue_token(ALICE, expires_in=-1)
    revoked = world.state.issue_token(ALICE)
    world.state.revoke(revoked)

    for token in ("not-a-token", expired, revoked):
        sut = world.providers.open(world.host, token)
        for call in (
            sut.get_account(),
            sut.list_repositories(page=1, per_page=10, sort=RepoSort.NAME),
            sut.list_branches("alice/app", page=1, per_page=10),
            sut.search_branches("alice/app", "main", per_page=10),
        ):
            with pytest.raises(ProviderReconnectRequiredError) as caught:
                await call
            assert caught.value.provider is world.kind
            assert token not in str(caught.value)


@pytest.mark.parametrize("failure", ["500", "503", "rate-limited", "malformed"])
async def test_a_failing_host_is_unavailable(world: World, failure: str) -> None:
    sut = world.as_user(ALICE)
    world.state.add_repo("alice/app")
    token = world.state.live_access_tokens(ALICE)[0]
    if failure == "rate-limited":
        world.state.rate_limited = True
    elif failure == "malformed":
        world.state.malformed = True
    else:
        world.state.outage = int(failure)

    for call in (
        sut.get_account(),
        sut.list_repositories(page=1, per_page=10, sort=RepoSort.NAME),
        sut.search_repositories("app", page=1, per_page=10, sort=RepoSort.NAME),
        sut.list_branches("alice/app", page=1, per_page=10),
        sut.search_branches("alice/app", "main", per_page=10),
    ):
        with pytest.raises(DependencyUnavailableError) as caught:
            await call
        assert token not in str(caught.value)


async def test_an_unreachable_host_is_unavailable(world: World) -> None:
    if not world.over_http:
        pytest.skip("no network in memory")
    unreachable = _closed_port_url()
    client = create_http_client(timeout_s=2.0, connect_timeout_s=1.0)
    try:
        kind = world.kind
        urls = CloudUrls(**{kind.value: unreachable})
        sut = HttpxGitProviders(client, urls).open(GitHost(kind), "secret-token")
        with pytest.raises(DependencyUnavailableError) as caught:
            await sut.get_account()
        assert "secret-token" not in str(caught.value)
        assert kind.value.lower() in str(caught.value).lower()
    finally:
        await client.aclose()


async def test_a_silent_host_times_out_as_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections into its backlog and never answers
        port = silent.getsockname()[1]
        async with create_http_client(timeout_s=0.3, connect_timeout_s=0.3) as client:
            urls = CloudUrls(gitlab=f"http://127.0.0.1:{port}")
            sut = HttpxGitProviders(client, urls).open(GitHost(ProviderKind.GITLAB), "tok-123")
            with pytest.raises(DependencyUnavailableError, match="in time") as caught:
                await sut.get_account()
    assert "tok-123" not in str(caught.value)


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{closed_port()}"
