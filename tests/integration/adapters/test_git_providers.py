"""What the git provider adapters put on the wire, checked at the loopback hosts, and the
answers the fakes do not give (read from a stub transport)."""

import asyncio
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.git_providers import (
    CloudUrls,
    HttpxGitProviders,
    HttpxProviderOAuth,
    OAuthApp,
    create_http_client,
)
from adapters.git_providers.bitbucket import name_filter
from adapters.git_providers.http import repository_segments
from application.errors import DependencyUnavailableError
from domain.git.entities import RepoSort
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import InvalidValueError, NotFoundError
from tests.fakes import FakeClock
from tests.fakes.git_hosts import run_fake_bitbucket, run_fake_github, run_fake_gitlab
from tests.fakes.git_hosts.bitbucket import parse_name_filter

GITHUB, GITLAB, BITBUCKET = (GitHost(kind) for kind in ProviderKind)


# ---- where each host is ---------------------------------------------------------------------


def test_the_real_clouds_have_their_own_api_hosts() -> None:
    urls = CloudUrls()
    assert urls.api_url(GITHUB) == "https://api.github.com"
    assert urls.graphql_url(GITHUB) == "https://api.github.com/graphql"
    assert urls.token_url(GITHUB) == "https://github.com/login/oauth/access_token"
    assert urls.api_url(GITLAB) == "https://gitlab.com/api/v4"
    assert urls.token_url(GITLAB) == "https://gitlab.com/oauth/token"
    assert urls.api_url(BITBUCKET) == "https://api.bitbucket.org/2.0"
    assert urls.token_url(BITBUCKET) == "https://bitbucket.org/site/oauth2/access_token"


def test_other_web_urls_carry_their_api_under_them() -> None:
    urls = CloudUrls(
        github="http://127.0.0.1:9/", gitlab="http://127.0.0.1:8", bitbucket="http://127.0.0.1:7"
    )
    ghe = GitHost(ProviderKind.GITHUB, "https://ghe.example.com/")
    gitlab = GitHost(ProviderKind.GITLAB, "https://git.example.com/gitlab")
    assert urls.api_url(GITHUB) == "http://127.0.0.1:9/api/v3"
    assert urls.graphql_url(GITHUB) == "http://127.0.0.1:9/api/graphql"
    assert urls.api_url(ghe) == "https://ghe.example.com/api/v3"
    assert urls.graphql_url(ghe) == "https://ghe.example.com/api/graphql"
    assert urls.token_url(ghe) == "https://ghe.example.com/login/oauth/access_token"
    assert urls.api_url(gitlab) == "https://git.example.com/gitlab/api/v4"
    assert urls.token_url(gitlab) == "https://git.example.com/gitlab/oauth/token"
    assert urls.api_url(BITBUCKET) == "http://127.0.0.1:7/!api/2.0"
    assert urls.token_url(BITBUCKET) == "http://127.0.0.1:7/site/oauth2/access_token"


@pytest.mark.parametrize("url", ["ftp://github.com", "github.com", "https://x.example?a=1"])
def test_a_cloud_url_must_be_http(url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        CloudUrls(github=url)


# ---- input that goes into URLs --------------------------------------------------------------


@given(st.text(max_size=40))
def test_a_name_filter_stays_one_string_literal(text: str) -> None:
    assert parse_name_filter(name_filter(text)) == text


@given(
    st.text(alphabet=string.printable + "é/%?#", max_size=30),
    st.integers(min_value=2, max_value=21),
)
def test_an_accepted_repository_name_cannot_change_the_path(raw: str, most: int) -> None:
    try:
        segments = repository_segments(raw, max_segments=most)
    except InvalidValueError as exc:
        assert exc.field == "repository"
        return
    assert "/".join(segments) == raw
    assert 2 <= len(segments) <= most
    for segment in segments:
        assert segment not in {".", ".."}
        assert quote(segment, safe="") == segment


# ---- on the wire ----------------------------------------------------------------------------


async def test_github_requests_carry_the_token_version_and_bounded_pages() -> None:
    with run_fake_github() as github:
        github.add_user("alice")
        token = github.issue_token("alice")
        github.add_repo("alice/app", branches=["main", "feature/x"])
        async with create_http_client() as client:
            sut = HttpxGitProviders(client, CloudUrls(github=github.base_url)).open(GITHUB, token)
            await sut.list_repositories(page=1, per_page=1000, sort=RepoSort.PUSHED)
            await sut.search_branches("alice/app", "x", per_page=500)
        listing, graphql = github.calls
    assert listing.authorization == f"Bearer {token}"
    assert listing.path == "/api/v3/user/repos"
    assert listing.query["per_page"] == ["100"]
    assert (listing.query["sort"], listing.query["direction"]) == (["pushed"], ["desc"])
    assert graphql.path == "/api/graphql"
    variables = graphql.body["variables"]
    assert variables == {"owner": "alice", "name": "app", "query": "x", "first": 100}


async def test_gitlab_sends_the_full_path_as_one_encoded_segment() -> None:
    with run_fake_gitlab() as gitlab:
        gitlab.add_user("alice")
        token = gitlab.issue_token("alice")
        gitlab.add_repo("grp/sub/app", members=["alice"], branches=["main"])
        async with create_http_client() as client:
            sut = HttpxGitProviders(client, CloudUrls(gitlab=gitlab.base_url)).open(GITLAB, token)
            await sut.list_branches("grp/sub/app", page=1, per_page=5)
        (call,) = gitlab.calls
    assert call.path == "/api/v4/projects/grp%2Fsub%2Fapp/repository/branches"


async def test_bitbucket_quotes_cannot_widen_a_search() -> None:
    hostile = 'x" OR name ~ "'
    with run_fake_bitbucket() as bitbucket:
        bitbucket.add_user("alice")
        token = bitbucket.issue_token("alice")
        bitbucket.add_repo("alice/app", branches=["main", "dev"])
        async with create_http_client() as client:
            urls = CloudUrls(bitbucket=bitbucket.base_url)
            sut = HttpxGitProviders(client, urls).open(BITBUCKET, token)
            found = await sut.search_branches("alice/app", hostile, per_page=10)
            repos = await sut.search_repositories(hostile, page=1, per_page=10, sort=RepoSort.NAME)
        calls = bitbucket.calls
    assert found == []
    assert repos.items == []
    assert [parse_name_filter(c.query["q"][0]) for c in calls] == [hostile, hostile]


async def test_the_token_endpoint_counts_every_one_of_a_hundred_concurrent_calls() -> None:
    with run_fake_gitlab() as gitlab:
        gitlab.add_user("alice")
        gitlab.token_delay_s = 0.2
        refresh_tokens = [gitlab.issue_refresh_token("alice") for _ in range(100)]
        async with create_http_client() as client:
            sut = HttpxProviderOAuth(
                client,
                CloudUrls(gitlab=gitlab.base_url),
                {GITLAB: OAuthApp(gitlab.client_id, gitlab.client_secret)},
                FakeClock(),
            )
            fresh = await asyncio.gather(*(sut.refresh(GITLAB, t) for t in refresh_tokens))
        assert gitlab.refresh_calls == 100
        assert gitlab.most_concurrent_refreshes > 1, "the fake serialised the calls"
    assert len({f.access_token for f in fresh}) == 100


# ---- answers the fakes do not give ----------------------------------------------------------


def _stub(status: int, body: bytes, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers or {})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


UNAVAILABLE, RECONNECT = DependencyUnavailableError, ProviderReconnectRequiredError


@pytest.mark.parametrize(
    ("status", "body", "headers", "on_repo", "on_user"),
    [
        (403, b'{"message": "Must have admin rights"}', {}, NotFoundError, RECONNECT),
        (403, b'{"message": "Bad credentials"}', {}, RECONNECT, RECONNECT),
        (403, b"{}", {"retry-after": "30"}, UNAVAILABLE, UNAVAILABLE),
        (403, b"{}", {"x-ratelimit-remaining": "0"}, UNAVAILABLE, UNAVAILABLE),
        (429, b"{}", {}, UNAVAILABLE, UNAVAILABLE),
        (502, b"<html>", {}, UNAVAILABLE, UNAVAILABLE),
        (400, b"{}", {}, UNAVAILABLE, UNAVAILABLE),
        (302, b"", {"location": "/elsewhere"}, UNAVAILABLE, UNAVAILABLE),
        (200, b'[{"name": 1}]', {}, UNAVAILABLE, UNAVAILABLE),
    ],
)
async def test_github_answers_map_to_the_ports_errors(
    status: int,
    body: bytes,
    headers: dict[str, str],
    on_repo: type[Exception],
    on_user: type[Exception],
) -> None:
    async with _stub(status, body, headers) as client:
        sut = HttpxGitProviders(client).open(GITHUB, "tok")
        with pytest.raises(on_repo):
            await sut.list_branches("alice/app", page=1, per_page=10)
        with pytest.raises(on_user):
            await sut.get_account()


async def test_github_installations_without_an_account_are_left_out() -> None:
    """GitHub documents an installation's account as nullable; the others still list."""
    body = (
        b'{"total_count": 2, "installations": ['
        b'{"id": 1, "account": null}, '
        b'{"id": 2, "account": {"login": "acme", "type": "Organization"}}]}'
    )
    async with _stub(200, body) as client:
        sut = HttpxGitProviders(client).installations(GITHUB, "tok")
        assert sut is not None
        found = await sut.list_installations()

    assert [(i.id_, i.account_login, i.account_type) for i in found] == [
        ("2", "acme", "Organization")
    ]


def _oauth(
    status: int, body: bytes, content_type: str = "application/json"
) -> Callable[[], HttpxProviderOAuth]:
    def make() -> HttpxProviderOAuth:
        client = _stub(status, body, {"content-type": content_type})
        return HttpxProviderOAuth(client, None, {GITHUB: OAuthApp("id", "secret")}, clock)

    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    return make


async def test_github_token_answers_in_form_encoding_are_read() -> None:
    sut = _oauth(
        200,
        b"access_token=ghu_new&expires_in=28800&refresh_token=ghr_new"
        b"&refresh_token_expires_in=15811200&scope=&token_type=bearer",
        "application/x-www-form-urlencoded; charset=utf-8",
    )()

    fresh = await sut.refresh(GITHUB, "ghr_old")

    assert (fresh.access_token, fresh.refresh_token, fresh.scopes) == ("ghu_new", "ghr_new", None)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert fresh.expires_at == now + timedelta(hours=8)
    assert fresh.refresh_expires_at == now + timedelta(seconds=15811200)


async def test_a_classic_github_token_without_expiry_comes_back_without_one() -> None:
    sut = _oauth(200, b'{"access_token": "gho_x", "scope": "repo", "token_type": "bearer"}')()

    fresh = await sut.refresh(GITHUB, "r")

    assert (fresh.expires_at, fresh.refresh_token, fresh.scopes) == (None, None, "repo")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, b'{"error": "bad_refresh_token"}', ProviderReconnectRequiredError),
        (400, b'{"error": "invalid_grant"}', ProviderReconnectRequiredError),
        (200, b'{"error": "incorrect_client_credentials"}', DependencyUnavailableError),
        (401, b'{"error": "invalid_client"}', DependencyUnavailableError),
        (200, b"<html>", DependencyUnavailableError),
        (200, b'{"token_type": "bearer"}', DependencyUnavailableError),
        (429, b"", DependencyUnavailableError),
    ],
)
async def test_token_endpoint_answers_map_to_the_ports_errors(
    status: int, body: bytes, error: type[Exception]
) -> None:
    sut = _oauth(status, body)()

    with pytest.raises(error) as caught:
        await sut.refresh(GITHUB, "the-refresh-token")

    assert "the-refresh-token" not in str(caught.value)
    assert "secret" not in str(caught.value)


# ---- paging, whatever the sizes -------------------------------------------------------------


@settings(max_examples=12)
@given(
    kind=st.sampled_from(list(ProviderKind)),
    count=st.integers(min_value=0, max_value=23),
    per_page=st.integers(min_value=1, max_value=7),
)
def test_pages_cover_every_repository_once_in_order(
    kind: ProviderKind, count: int, per_page: int
) -> None:
    run = {"github": run_fake_github, "gitlab": run_fake_gitlab, "bitbucket": run_fake_bitbucket}

    async def walk(base_url: str, token: str) -> list[list[str]]:
        pages: list[list[str]] = []
        async with create_http_client() as client:
            urls = CloudUrls(**{kind.value: base_url})
            sut = HttpxGitProviders(client, urls).open(GitHost(kind), token)
            page: int | None = 1
            while page is not None and len(pages) <= count + 1:
                found = await sut.list_repositories(
                    page=page, per_page=per_page, sort=RepoSort.NAME
                )
                pages.append([r.full_name for r in found.items])
                page = found.next_page
        return pages

    with run[kind.value]() as host:
        host.add_user("alice")
        token = host.issue_token("alice")
        names = sorted(f"alice/r{index:02d}" for index in range(count))
        for name in names:
            host.add_repo(name)
        pages = asyncio.run(walk(host.base_url, token))

    assert [name for page in pages for name in page] == names
    assert all(len(page) == per_page for page in pages[:-1])
    assert len(pages) == max(1, -(-count // per_page))


def test_clone_urls_follow_the_cloud_urls_and_self_hosted_bases() -> None:
    clouds = CloudUrls(github="http://127.0.0.1:1", gitlab="https://gitlab.com")
    providers = HttpxGitProviders(httpx.AsyncClient(), clouds)
    assert providers.clone_url(GitHost(ProviderKind.GITHUB), "alice/app") == (
        "http://127.0.0.1:1/alice/app.git"
    )
    ghe = GitHost(ProviderKind.GITHUB, "https://ghe.example.com")
    assert providers.clone_url(ghe, "acme/api") == "https://ghe.example.com/acme/api.git"
    assert providers.clone_url(GitHost(ProviderKind.GITLAB), "group/sub/project") == (
        "https://gitlab.com/group/sub/project.git"
    )
    assert providers.clone_url(GitHost(ProviderKind.BITBUCKET), "team/site") == (
        "https://bitbucket.org/team/site.git"
    )
    for hostile in ("../x", "a/b?c", "a/b#c", "a//b", "a", "a/b/c", "a/b c"):
        with pytest.raises(InvalidValueError):
            providers.clone_url(GitHost(ProviderKind.GITHUB), hostile)
