"""The Bitbucket Cloud thread and webhook adapters against the fake Bitbucket, and the fake's
answers against the description Bitbucket publishes of its 2.0 API: a user's permission on
a repository (as a workspace admin reads it), comments, a pull request's own branch (none
from a fork), and a repository webhook installed with its secret and removed.

Every call is a documented operation with a documented status, every field the adapter reads
is documented, and every answer validates against its documented schema."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest

from adapters.git_providers import CloudUrls, HttpxGitApps, create_http_client
from adapters.git_providers import bitbucket_threads as adapter
from application.ports.git_app import RepositoryPermission
from domain.git.providers import GitHost, ProviderKind
from domain.resolver.triggers import EventSender, ThreadRef
from domain.shared.errors import NotFoundError
from tests.fakes.git_hosts import FakeBitbucket, run_fake_bitbucket
from tests.support.provider_apis import bitbucket_openapi, read_field_problems

pytestmark = pytest.mark.usefixtures("ensure_api_descriptions")

BB = ProviderKind.BITBUCKET
REPO = "acme/widgets"
ISSUE = ThreadRef(provider=BB, repository=REPO, number=12)
PULL = ThreadRef(provider=BB, repository=REPO, number=3, is_pull_request=True)
FORKED = ThreadRef(provider=BB, repository=REPO, number=4, is_pull_request=True)


@pytest.fixture(scope="module")
def ensure_api_descriptions() -> None:
    bitbucket_openapi()


@dataclass
class Exchanges:
    prefix: str
    seen: list[tuple[str, str, int, Any]] = field(default_factory=list)

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        path = response.request.url.raw_path.decode().split("?", 1)[0]
        try:
            answer = response.json() if response.content else None
        except ValueError:
            answer = None
        self.seen.append(
            (response.request.method, path.removeprefix(self.prefix), response.status_code, answer)
        )


@pytest.fixture
def bitbucket() -> Iterator[FakeBitbucket]:
    with run_fake_bitbucket() as fake:
        for login in ("ada", "bob", "rita", "mallory"):
            fake.add_user(login)
        fake.add_repo(REPO, members={"ada", "bob", "rita"})
        fake.set_permission(REPO, "ada", "admin")
        fake.set_permission(REPO, "rita", "read")
        fake.add_pull_request(REPO, 3, source_branch="fix/crash")
        fake.add_pull_request(REPO, 4, source_branch="main", from_fork=True)
        yield fake


@dataclass
class Opened:
    apps: HttpxGitApps
    exchanges: Exchanges


@pytest.fixture
async def opened(bitbucket: FakeBitbucket) -> AsyncIterator[Opened]:
    urls = CloudUrls(bitbucket=bitbucket.base_url)
    exchanges = Exchanges(prefix=urls.api_url(GitHost(BB)).removeprefix(bitbucket.base_url))
    client = create_http_client()
    client.event_hooks["response"].append(exchanges.on_response)
    try:
        yield Opened(HttpxGitApps(client, github=None, cloud_urls=urls), exchanges)
    finally:
        await client.aclose()


def _sender(bitbucket: FakeBitbucket, login: str) -> EventSender:
    account = bitbucket.account(login)
    assert account is not None
    return EventSender(account_id=f"{{account-{account.id_}}}", login=login)


async def test_permissions_comments_branches_and_hooks(
    bitbucket: FakeBitbucket, opened: Opened
) -> None:
    token = bitbucket.issue_token("ada")
    threads = opened.apps.threads(GitHost(BB), token)
    assert await threads.permission(REPO, _sender(bitbucket, "ada")) is RepositoryPermission.ADMIN
    assert await threads.permission(REPO, _sender(bitbucket, "bob")) is RepositoryPermission.WRITE
    assert not (await threads.permission(REPO, _sender(bitbucket, "rita"))).can_write
    stranger = await threads.permission(REPO, _sender(bitbucket, "mallory"))
    assert stranger is RepositoryPermission.NONE
    odd = EventSender(account_id='x" OR 1', login="x")
    assert await threads.permission(REPO, odd) is RepositoryPermission.NONE
    await threads.react(ISSUE, "17", review=False)  # Bitbucket has no reactions: nothing
    comment_id = await threads.comment(ISSUE, "I'm on it!")
    assert comment_id.isdigit()
    await threads.comment(PULL, "Done.")
    assert bitbucket.threads.comments_on(REPO, 12) == ["I'm on it!"]
    assert bitbucket.threads.comments_on(REPO, 3, pull=True) == ["Done."]
    assert await threads.head_branch(PULL) == "fix/crash"
    assert await threads.head_branch(FORKED) is None
    assert await threads.head_branch(ISSUE) is None
    hooks = opened.apps.hooks(GitHost(BB), token)
    uid = await hooks.install(
        REPO, "https://maestrist.example/api/webhooks/bitbucket", "s3", group=False
    )
    found = await hooks.find(REPO, "https://maestrist.example/api/webhooks/bitbucket", group=False)
    assert found == uid
    assert await hooks.find(REPO, "https://elsewhere.example/", group=False) is None
    hook = bitbucket.threads.hook_on(REPO)
    assert hook is not None
    assert (hook.uuid, hook.secret) == (uid, "s3")
    assert sorted(hook.events) == ["issue:comment_created", "pullrequest:comment_created"]
    await hooks.remove(REPO, uid, group=False)
    await hooks.remove(REPO, uid, group=False)
    assert bitbucket.threads.hook_on(REPO) is None
    with pytest.raises(NotFoundError):
        await opened.apps.hooks(GitHost(BB), bitbucket.issue_token("bob")).install(
            REPO, "https://x.example/", "s", group=False
        )


_DECODED: dict[str, type[msgspec.Struct]] = {
    "/workspaces/{workspace}/permissions/repositories/{repo_slug}": adapter._Permissions,
    "/repositories/{workspace}/{repo_slug}/issues/{issue_id}/comments": adapter._Comment,
    "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments": (
        adapter._Comment
    ),
    "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}": adapter._PullRequest,
    "/repositories/{workspace}/{repo_slug}/hooks": adapter._Hook,
    "/repositories/{workspace}/{repo_slug}/hooks#GET": adapter._Hooks,
}
"""What the adapter decodes each answer into: every field it reads must be documented."""

_BODY_UNDESCRIBED = {("POST", "/repositories/{workspace}/{repo_slug}/issues/{issue_id}/comments")}
"""Bitbucket answers a new issue comment with it, but describes only its ``Location``."""


async def test_every_call_is_documented_and_answered_as_documented(
    bitbucket: FakeBitbucket, opened: Opened
) -> None:
    await test_permissions_comments_branches_and_hooks(bitbucket, opened)
    api = bitbucket_openapi()
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
        if status == 204 or (method, operation.template) in _BODY_UNDESCRIBED:
            continue
        schema = api.response_schema(operation, status)
        if schema is None:
            problems.append(f"{where}: no documented JSON body")
            continue
        problems.extend(
            f"{where} at /{'/'.join(map(str, error.instance_path))}: {error.message[:200]}"
            for error in api.validator(schema).iter_errors(answer)
        )
        decoded = _DECODED.get(f"{operation.template}#{method}", _DECODED.get(operation.template))
        if decoded is not None and status < 300:
            problems.extend(read_field_problems(api, decoded, schema))
    assert not problems, "\n".join(problems)


async def test_a_comment_answered_by_its_location_alone_is_named_by_it(
    bitbucket: FakeBitbucket, opened: Opened
) -> None:
    bitbucket.threads.comment_bodies = False
    threads = opened.apps.threads(GitHost(BB), bitbucket.issue_token("ada"))
    comment_id = await threads.comment(ISSUE, "I'm on it!")
    assert comment_id.isdigit()
    assert bitbucket.threads.comments_on(REPO, 12) == ["I'm on it!"]
    assert comment_id == str(bitbucket.threads.comments[-1].id_)
