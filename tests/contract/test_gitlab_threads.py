"""The GitLab thread and webhook adapters against the fake GitLab (whose shapes follow GitLab's
REST v4 documentation; GitLab publishes no OpenAPI description we can install): a member's
access level read as a permission, the eyes award (again: no error), notes, a merge
request's own branch (none from a fork), and a project hook installed with its token and
removed."""

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.git_providers import CloudUrls, HttpxGitApps, create_http_client
from application.ports.git_app import RepositoryPermission
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.resolver.triggers import EventSender, ThreadRef
from domain.shared.errors import NotFoundError
from tests.fakes.git_hosts import FakeGitLab, run_fake_gitlab

GL = ProviderKind.GITLAB
REPO = "acme/platform/widgets"
ISSUE = ThreadRef(provider=GL, repository=REPO, number=12)
MERGE = ThreadRef(provider=GL, repository=REPO, number=3, is_pull_request=True)
FORKED = ThreadRef(provider=GL, repository=REPO, number=4, is_pull_request=True)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with run_fake_gitlab() as fake:
        for login in ("ada", "bob", "rita", "mallory"):
            fake.add_user(login)
        fake.add_repo(REPO, members={"ada", "bob", "rita"})
        fake.make_maintainer(REPO, "ada")
        fake.set_access_level(REPO, "rita", 20)
        fake.add_merge_request(REPO, 3, source_branch="fix/crash")
        fake.add_merge_request(REPO, 4, source_branch="main", from_fork=True)
        yield fake


@pytest.fixture
async def apps(gitlab: FakeGitLab) -> AsyncIterator[HttpxGitApps]:
    client = create_http_client()
    try:
        yield HttpxGitApps(client, github=None, cloud_urls=CloudUrls(gitlab=gitlab.base_url))
    finally:
        await client.aclose()


def _sender(gitlab: FakeGitLab, login: str) -> EventSender:
    account = gitlab.account(login)
    assert account is not None
    return EventSender(account_id=str(account.id_), login=login)


async def test_members_access_levels_read_as_permissions(
    gitlab: FakeGitLab, apps: HttpxGitApps
) -> None:
    threads = apps.threads(GitHost(GL), gitlab.issue_token("ada"))
    assert await threads.permission(REPO, _sender(gitlab, "ada")) is RepositoryPermission.MAINTAIN
    assert await threads.permission(REPO, _sender(gitlab, "bob")) is RepositoryPermission.WRITE
    rita = await threads.permission(REPO, _sender(gitlab, "rita"))
    assert not rita.can_write
    stranger = await threads.permission(REPO, _sender(gitlab, "mallory"))
    assert stranger is RepositoryPermission.NONE
    unknown = EventSender(account_id="not-a-number", login="x")
    assert await threads.permission(REPO, unknown) is RepositoryPermission.NONE


async def test_notes_and_awards_land_on_the_thread_and_an_award_again_is_no_error(
    gitlab: FakeGitLab, apps: HttpxGitApps
) -> None:
    threads = apps.threads(GitHost(GL), gitlab.issue_token("ada"))
    await threads.react(ISSUE, "1241", review=False)
    await threads.react(ISSUE, "1241", review=False)
    await threads.react(MERGE, None, review=False)
    assert [(a.subject, a.name, a.user) for a in gitlab.threads.awards] == [
        ("note:1241", "eyes", "ada"),
        ("merge_request:3", "eyes", "ada"),
    ]
    note_id = await threads.comment(ISSUE, "I'm on it!")
    assert note_id.isdigit()
    await threads.comment(MERGE, "Done.")
    assert gitlab.threads.notes_on(REPO, 12) == ["I'm on it!"]
    assert gitlab.threads.notes_on(REPO, 3, merge_request=True) == ["Done."]


async def test_a_merge_request_runs_on_its_own_branch_but_not_a_forks(
    gitlab: FakeGitLab, apps: HttpxGitApps
) -> None:
    threads = apps.threads(GitHost(GL), gitlab.issue_token("ada"))
    assert await threads.head_branch(MERGE) == "fix/crash"
    assert await threads.head_branch(FORKED) is None
    assert await threads.head_branch(ISSUE) is None
    with pytest.raises(NotFoundError):
        await threads.head_branch(
            ThreadRef(provider=GL, repository=REPO, number=99, is_pull_request=True)
        )


async def test_a_hook_is_installed_with_its_token_and_removed(
    gitlab: FakeGitLab, apps: HttpxGitApps
) -> None:
    hooks = apps.hooks(GitHost(GL), gitlab.issue_token("ada"))
    hook_id = await hooks.install(
        REPO, "https://maestrist.example/api/webhooks/gitlab", "s3", group=False
    )
    assert await hooks.find(REPO, "https://maestrist.example/api/webhooks/gitlab", group=False) == (
        hook_id
    )
    assert await hooks.find(REPO, "https://elsewhere.example/", group=False) is None
    hook = gitlab.threads.hook_on(REPO)
    assert hook is not None
    assert (str(hook.id_), hook.token, hook.url) == (
        hook_id,
        "s3",
        "https://maestrist.example/api/webhooks/gitlab",
    )
    assert hook.events == {
        "push_events": False,
        "issues_events": True,
        "merge_requests_events": True,
        "note_events": True,
    }
    await hooks.remove(REPO, hook_id, group=False)
    await hooks.remove(REPO, hook_id, group=False)  # gone already: no error
    assert gitlab.threads.hook_on(REPO) is None


async def test_a_developer_cannot_install_a_hook_and_a_revoked_token_is_refused(
    gitlab: FakeGitLab, apps: HttpxGitApps
) -> None:
    with pytest.raises(NotFoundError):
        await apps.hooks(GitHost(GL), gitlab.issue_token("bob")).install(
            REPO, "https://x/", "s", group=False
        )
    token = gitlab.issue_token("ada")
    gitlab.revoke(token)
    with pytest.raises(ProviderReconnectRequiredError):
        await apps.threads(GitHost(GL), token).comment(ISSUE, "hello")


async def test_a_groups_hook_is_installed_by_its_maintainer_and_removed(
    gitlab: FakeGitLab, apps: HttpxGitApps
) -> None:
    gitlab.set_access_level("acme/platform", "ada", 40)
    hooks = apps.hooks(GitHost(GL), gitlab.issue_token("ada"))
    assert await hooks.find("acme/platform", "https://m.example/h", group=True) is None
    hook_id = await hooks.install("acme/platform", "https://m.example/h", "s4", group=True)
    assert await hooks.find("acme/platform", "https://m.example/h", group=True) == hook_id
    hook = gitlab.threads.hook_on("acme/platform")
    assert hook is not None
    assert (str(hook.id_), hook.token, hook.group) == (hook_id, "s4", True)
    with pytest.raises(NotFoundError):
        await apps.hooks(GitHost(GL), gitlab.issue_token("bob")).install(
            "acme/platform", "https://m.example/h", "s", group=True
        )
    await hooks.remove("acme/platform", hook_id, group=True)
    assert gitlab.threads.hook_on("acme/platform") is None
