"""The ProviderOAuth contract: the in-memory fake and the httpx adapter against the loopback
token endpoints of GitHub (github.com and Enterprise), GitLab (gitlab.com and self-managed) and
Bitbucket Cloud."""

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.git_providers import (
    CloudUrls,
    HttpxGitProviders,
    HttpxProviderOAuth,
    OAuthApp,
    create_http_client,
)
from application.errors import DependencyUnavailableError
from application.ports.git_provider import GitProviders, ProviderOAuth
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from tests.fakes import FakeClock, FakeProviderOAuth
from tests.fakes.git_hosts import (
    FakeGitHostState,
    run_fake_bitbucket,
    run_fake_github,
    run_fake_gitlab,
)

ALICE = "alice"
WORLDS = ["memory", "github", "github-enterprise", "gitlab", "gitlab-self-hosted", "bitbucket"]


@dataclass
class World:
    oauth: ProviderOAuth
    host: GitHost
    clock: FakeClock
    issue_refresh: Callable[[], str]
    refuse: Callable[[], None]
    fail: Callable[[int], None]
    lifetime: timedelta
    state: FakeGitHostState | None = None
    providers: GitProviders | None = None
    make_oauth: Callable[[OAuthApp], ProviderOAuth] | None = None

    async def token_works(self, access_token: str) -> bool:
        """Whether the host's API takes the token (the in-memory fake has no API: True)."""
        if self.providers is None:
            return True
        account = await self.providers.open(self.host, access_token).get_account()
        return account.login == ALICE


@pytest.fixture(params=WORLDS)
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    name: str = request.param
    clock = FakeClock()
    if name == "memory":
        host = GitHost(ProviderKind.GITHUB)
        fake = FakeProviderOAuth(clock, hosts={host})
        counter = iter(range(1_000_000))

        def issue() -> str:
            return fake.issue(f"refresh-seed-{next(counter)}")

        def refuse() -> None:
            fake.refuse = True

        def fail(_status: int) -> None:
            fake.down = True

        yield World(fake, host, clock, issue, refuse, fail, timedelta(hours=8))
        return
    run = {"github": run_fake_github, "gitlab": run_fake_gitlab, "bitbucket": run_fake_bitbucket}
    kind = ProviderKind(name.split("-", maxsplit=1)[0])
    with ExitStack() as stack:
        fake_host = stack.enter_context(run[kind.value](now=clock.now))
        fake_host.add_user(ALICE)
        client = create_http_client(timeout_s=5.0, connect_timeout_s=2.0)
        try:
            if name.endswith(("-enterprise", "-self-hosted")):
                host, urls = GitHost(kind, fake_host.base_url), CloudUrls()
            else:
                host = GitHost(kind)
                urls = CloudUrls(**{kind.value: fake_host.base_url})
            app = OAuthApp(fake_host.client_id, fake_host.client_secret)

            def make(app: OAuthApp) -> ProviderOAuth:
                return HttpxProviderOAuth(client, urls, {host: app}, clock)

            def issue_http() -> str:
                return fake_host.issue_refresh_token(ALICE)

            def refuse_http() -> None:
                fake_host.refuse_refresh = True

            def fail_http(status: int) -> None:
                fake_host.outage = status

            yield World(
                make(app),
                host,
                clock,
                issue_http,
                refuse_http,
                fail_http,
                timedelta(seconds=fake_host.access_lifetime_s),
                state=fake_host,
                providers=HttpxGitProviders(client, urls),
                make_oauth=make,
            )
        finally:
            await client.aclose()


async def test_a_refresh_yields_a_fresh_access_token(world: World) -> None:
    refresh = world.issue_refresh()

    fresh = await world.oauth.refresh(world.host, refresh)

    assert fresh.access_token
    assert await world.token_works(fresh.access_token)
    assert fresh.expires_at == world.clock.now() + world.lifetime
    assert fresh.refresh_expires_at is None or fresh.refresh_expires_at > fresh.expires_at
    assert fresh.access_token not in repr(fresh)
    if world.state is not None:
        assert world.state.refresh_calls == 1


async def test_the_refresh_token_rotates_and_the_old_one_is_spent(world: World) -> None:
    first = world.issue_refresh()
    fresh = await world.oauth.refresh(world.host, first)
    assert fresh.refresh_token is not None
    assert fresh.refresh_token != first

    with pytest.raises(ProviderReconnectRequiredError) as spent:
        await world.oauth.refresh(world.host, first)
    again = await world.oauth.refresh(world.host, fresh.refresh_token)

    assert spent.value.provider is world.host.kind
    assert first not in str(spent.value)
    assert again.access_token != fresh.access_token


async def test_a_refused_or_unknown_refresh_token_asks_to_reconnect(world: World) -> None:
    refresh = world.issue_refresh()

    with pytest.raises(ProviderReconnectRequiredError):
        await world.oauth.refresh(world.host, "never-issued")
    world.refuse()
    with pytest.raises(ProviderReconnectRequiredError) as refused:
        await world.oauth.refresh(world.host, refresh)

    assert refresh not in str(refused.value)


@pytest.mark.parametrize("status", [500, 503])
async def test_an_outage_is_unavailable_not_a_refusal(world: World, status: int) -> None:
    refresh = world.issue_refresh()
    world.fail(status)

    with pytest.raises(DependencyUnavailableError) as caught:
        await world.oauth.refresh(world.host, refresh)

    assert refresh not in str(caught.value)


async def test_only_hosts_with_an_oauth_app_can_refresh(world: World) -> None:
    other = (
        ProviderKind.GITLAB if world.host.kind is not ProviderKind.GITLAB else ProviderKind.GITHUB
    )

    assert world.oauth.can_refresh(world.host)
    assert not world.oauth.can_refresh(GitHost(other))
    assert not world.oauth.can_refresh(GitHost(other, "https://git.elsewhere.example"))
    if world.make_oauth is not None:  # the in-memory fake refreshes for any host when asked
        with pytest.raises(ProviderReconnectRequiredError):
            await world.oauth.refresh(GitHost(other), world.issue_refresh())


async def test_wrong_app_credentials_are_the_servers_fault(world: World) -> None:
    if world.make_oauth is None:
        pytest.skip("the in-memory fake has no app credentials")
    refresh = world.issue_refresh()
    sut = world.make_oauth(OAuthApp("fake-client-id", "wrong-secret"))

    with pytest.raises(DependencyUnavailableError) as caught:
        await sut.refresh(world.host, refresh)

    assert "wrong-secret" not in str(caught.value)
    assert "wrong-secret" not in repr(OAuthApp("id", "wrong-secret"))


async def test_an_unreachable_token_endpoint_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = create_http_client(timeout_s=2.0, connect_timeout_s=1.0)
    try:
        urls = CloudUrls(bitbucket=f"http://127.0.0.1:{port}")
        host = GitHost(ProviderKind.BITBUCKET)
        sut = HttpxProviderOAuth(client, urls, {host: OAuthApp("id", "secret")}, FakeClock())
        with pytest.raises(DependencyUnavailableError):
            await sut.refresh(host, "refresh")
    finally:
        await client.aclose()
