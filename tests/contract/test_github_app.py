"""The GitHub App adapter against the fake GitHub, and the fake's answers against GitHub's
published OpenAPI description: an installation token minted for the app's JWT, and what it
does on issues and pull requests (permission, reactions, comments, a pull request's branch).

Every call is a documented operation with a documented status, every field the adapter reads
is documented, and every answer validates against its documented schema."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from adapters.git_providers import CloudUrls, GitHubApp, HttpxGitApps, create_http_client
from adapters.git_providers import github_app as github_app_adapter
from application.errors import DependencyUnavailableError
from application.ports.git_app import RepositoryPermission
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.resolver.triggers import EventSender, ThreadRef
from domain.shared.errors import NotFoundError
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.fakes.git_hosts.github_app import app_key_pair
from tests.support.provider_apis import github_openapi, read_field_problems

pytestmark = pytest.mark.usefixtures("ensure_api_descriptions")

REPO = "acme/widgets"
ISSUE = ThreadRef(provider=ProviderKind.GITHUB, repository=REPO, number=12)
PULL = ThreadRef(provider=ProviderKind.GITHUB, repository=REPO, number=13, is_pull_request=True)
FORKED = ThreadRef(provider=ProviderKind.GITHUB, repository=REPO, number=14, is_pull_request=True)


@pytest.fixture(scope="module")
def ensure_api_descriptions() -> None:
    github_openapi()


@dataclass
class Exchanges:
    prefix: str
    seen: list[tuple[str, str, int, Any]] = field(default_factory=list)

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        path = response.request.url.raw_path.decode().split("?", 1)[0]
        try:
            answer = response.json()
        except ValueError:
            answer = None
        self.seen.append(
            (response.request.method, path.removeprefix(self.prefix), response.status_code, answer)
        )


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("acme", organization=True, members={"ada"})
        fake.add_user("ada")
        fake.add_user("mallory")
        fake.add_installation(4242, "acme", members={"ada"})
        fake.add_repo(REPO, members={"ada"}, installation_id=4242)
        fake.add_repo("mallory/widgets", members={"mallory"})
        yield fake


@dataclass
class Opened:
    apps: HttpxGitApps
    app: GitHubApp
    exchanges: Exchanges


@pytest.fixture
async def opened(github: FakeGitHub) -> AsyncIterator[Opened]:
    pem = github.register_app(app_id="4711")
    urls = CloudUrls(github=github.base_url)
    api = urls.api_url(GitHost(ProviderKind.GITHUB))
    exchanges = Exchanges(prefix=api.removeprefix(github.base_url))
    client = create_http_client()
    client.event_hooks["response"].append(exchanges.on_response)
    app = GitHubApp(
        client, api_url=api, app_id="4711", private_key_pem=pem, now=lambda: datetime.now(UTC)
    )
    try:
        yield Opened(HttpxGitApps(client, github=app, cloud_urls=urls), app, exchanges)
    finally:
        await client.aclose()


async def test_a_token_is_minted_for_the_apps_jwt_and_works_on_issues(
    github: FakeGitHub, opened: Opened
) -> None:
    token = await opened.app.mint_token("4242")
    assert token.token.startswith("ghs_")
    assert token.fresh_at(datetime.now(UTC))
    threads = opened.apps.threads(GitHost(ProviderKind.GITHUB), token.token)
    assert (
        await threads.permission(REPO, EventSender(account_id="1", login="ada"))
        is RepositoryPermission.WRITE
    )
    assert (
        await threads.permission(REPO, EventSender(account_id="1", login="mallory"))
        is RepositoryPermission.NONE
    )
    assert (
        await threads.permission(REPO, EventSender(account_id="1", login="nobody-at-all"))
        is RepositoryPermission.NONE
    )
    assert github.github_app is not None
    github.github_app.permissions[REPO, "mallory"] = "triage"
    assert (
        await threads.permission(REPO, EventSender(account_id="1", login="mallory"))
        is RepositoryPermission.TRIAGE
    )
    github.github_app.permissions[REPO, "mallory"] = "maintain"
    assert (await threads.permission(REPO, EventSender(account_id="1", login="mallory"))).can_write
    comment_id = await threads.comment(ISSUE, "I'm on it!")
    assert github.github_app.comments_on(REPO, 12) == ["I'm on it!"]
    for _ in range(2):
        await threads.react(ISSUE, None, review=False)
        await threads.react(ISSUE, comment_id, review=False)
        await threads.react(PULL, "77", review=True)
    assert sorted(r.subject for r in github.github_app.reactions) == [
        f"issue-comment:{comment_id}",
        "issue:12",
        "review-comment:77",
    ]
    assert {r.content for r in github.github_app.reactions} == {"eyes"}
    github.add_pull_request(REPO, 13, head_ref="feature/login")
    github.add_pull_request(REPO, 14, head_ref="main", head_repository="mallory/widgets")
    assert await threads.head_branch(PULL) == "feature/login"
    assert await threads.head_branch(FORKED) is None
    assert await threads.head_branch(ISSUE) is None


async def test_another_key_unknown_installations_and_spent_tokens_are_refused(
    github: FakeGitHub, opened: Opened
) -> None:
    other_pem, _ = app_key_pair()
    stranger = GitHubApp(
        create_http_client(),
        api_url=CloudUrls(github=github.base_url).api_url(GitHost(ProviderKind.GITHUB)),
        app_id="4711",
        private_key_pem=other_pem,
        now=lambda: datetime.now(UTC),
    )
    with pytest.raises(DependencyUnavailableError):
        await stranger.mint_token("4242")
    with pytest.raises(NotFoundError):
        await opened.app.mint_token("999")
    threads = opened.apps.threads(GitHost(ProviderKind.GITHUB), "ghs_not-minted")
    with pytest.raises(ProviderReconnectRequiredError):
        await threads.comment(ISSUE, "hello")
    assert github.github_app is not None
    assert github.github_app.comments == []


def test_a_key_that_is_not_pem_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="private key"):
        GitHubApp(
            create_http_client(),
            api_url="http://127.0.0.1:9/api/v3",
            app_id="1",
            private_key_pem="not a key",
            now=lambda: datetime.now(UTC),
        )


async def test_every_call_is_documented_and_answered_as_documented(
    github: FakeGitHub, opened: Opened
) -> None:
    await test_a_token_is_minted_for_the_apps_jwt_and_works_on_issues(github, opened)
    api = github_openapi()
    problems = []
    for method, path, status, answer in opened.exchanges.seen:
        operation = api.operation(method, path)
        if operation is None:
            problems.append(f"{method} {path}: not a documented operation")
            continue
        where = f"{method} {operation.template} -> {status}"
        if not api.documents_status(operation, status):
            problems.append(f"{where}: status not documented")
            continue
        schema = api.response_schema(operation, status)
        if schema is None:
            problems.append(f"{where}: no documented JSON body")
            continue
        problems.extend(
            f"{where} at /{'/'.join(map(str, error.instance_path))}: {error.message[:200]}"
            for error in api.validator(schema).iter_errors(answer)
        )
        decoded = _DECODED.get(operation.template)
        if decoded is not None and status < 300:
            problems.extend(read_field_problems(api, decoded, schema))
    assert not problems, "\n".join(problems)


_DECODED: dict[str, type[msgspec.Struct]] = {
    "/app/installations/{installation_id}/access_tokens": github_app_adapter._AccessToken,
    "/repos/{owner}/{repo}/collaborators/{username}/permission": github_app_adapter._Permission,
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": github_app_adapter._Comment,
    "/repos/{owner}/{repo}/pulls/{pull_number}": github_app_adapter._PullRequest,
}
"""What the adapter decodes each answer into: every field it reads must be documented."""
