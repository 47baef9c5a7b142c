"""GitLab's and Bitbucket's documented example deliveries through their webhook sources: each
verified against the secret of the webhook on the repository it is about (GitLab's token,
Bitbucket's signature made by an independent signer), read into thread events, and a trigger
(never by the account the replies are written as) queued for the organization that enabled
the repository."""

import json
from typing import Any

import pytest

from application.resolver import ANSWER_TRIGGER, ResolverTrigger
from application.resolver.bitbucket_events import read_bitbucket_delivery
from application.resolver.bitbucket_webhooks import BitbucketWebhooks
from application.resolver.gitlab_events import read_gitlab_delivery
from application.resolver.gitlab_webhooks import GitlabWebhooks
from application.webhooks.sources import WebhookSource
from domain.conversations.entities import Tenant
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.entities import GitIdentity, RepositoryHook, ResolverSettings
from domain.resolver.triggers import ResolverPolicy, ThreadEventKind, TriggerKind
from domain.shared.ids import new_id
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError
from tests.factories import T0
from tests.fakes import FakeStore
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.repository_webhooks import (
    bitbucket_delivery,
    bitbucket_example,
    gitlab_delivery,
    gitlab_example,
)

GL = ProviderKind.GITLAB
BB = ProviderKind.BITBUCKET
TENANT = Tenant(OrgId(new_id()), UserId(new_id()))
GITLAB_SECRET = "gitlab-hook-secret-of-this-project"
BITBUCKET_SECRET = "bitbucket-hook-secret-of-this-repo"
POLICY = ResolverPolicy(label="Platform", handle="@openhands")


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


async def _store() -> FakeStore:
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    for provider, web_url, repository, secret, id_ in (
        (GL, "http://example.com", "gitlab-org/gitlab-test", GITLAB_SECRET, "gl-1"),
        (GL, "http://example.com", "gitlabhq/gitlab-test", GITLAB_SECRET, "gl-2"),
        (BB, "https://bitbucket.org", "team_name/repo_name", BITBUCKET_SECRET, "bb-1"),
    ):
        await uow.repository_hooks.add(
            RepositoryHook(
                id_=id_,
                provider=provider,
                web_url=web_url,
                repository=repository,
                org_id=TENANT.org_id,
                enabled_by=TENANT.user_id,
                secret=secret,
                created_at=T0,
                updated_at=T0,
            )
        )
    await uow.git_identities.link(
        GitIdentity(user_id=TENANT.user_id, provider=GL, account_id="42", login="bot", linked_at=T0)
    )
    await uow.commit()
    return store


gitlab = GitlabWebhooks(policy=POLICY)
bitbucket = BitbucketWebhooks(policy=POLICY)


async def test_a_gitlab_delivery_is_verified_by_its_projects_token() -> None:
    store = await _store()
    uow = FakeUnitOfWork(store)
    body, headers = gitlab_delivery(
        gitlab_example("note_issue"), token=GITLAB_SECRET, event_uuid="e-1"
    )
    signed = await gitlab.verify_stored(_lower(headers), body, uow)
    assert (signed.delivery_id, signed.event) == ("e-1", "note_hook")
    keyed = {**_lower(headers), "idempotency-key": "k-1"}
    assert (await gitlab.verify_stored(keyed, body, uow)).delivery_id == "k-1"
    for forged in ("", "not-the-secret", GITLAB_SECRET + "x", BITBUCKET_SECRET):
        with pytest.raises(WebhookSignatureError):
            await gitlab.verify_stored({**_lower(headers), "x-gitlab-token": forged}, body, uow)
    elsewhere = gitlab_example("note_issue")
    elsewhere["project"]["path_with_namespace"] = "someone/else"
    other_body, _ = gitlab_delivery(elsewhere, token=GITLAB_SECRET)
    with pytest.raises(WebhookSignatureError):
        await gitlab.verify_stored(_lower(headers), other_body, uow)
    with pytest.raises(WebhookSignatureError):
        gitlab.verify(_lower(headers), body)  # no secret of its own: only the stored ones


async def test_a_bitbucket_delivery_is_verified_by_its_repositorys_signature() -> None:
    store = await _store()
    uow = FakeUnitOfWork(store)
    payload = bitbucket_example("pullrequest_comment_created")
    body, headers = bitbucket_delivery(
        payload, event="pullrequest:comment_created", secret=BITBUCKET_SECRET, request_uuid="r-1"
    )
    signed = await bitbucket.verify_stored(_lower(headers), body, uow)
    assert (signed.delivery_id, signed.event) == ("r-1", "pullrequest:comment_created")
    with pytest.raises(WebhookSignatureError):
        await bitbucket.verify_stored(_lower(headers), body.replace(b"Comment", b"Comnent"), uow)
    _, forged = bitbucket_delivery(payload, event="x", secret="another-secret-of-the-repo")
    with pytest.raises(WebhookSignatureError):
        await bitbucket.verify_stored(
            {**_lower(headers), "x-hub-signature": forged["X-Hub-Signature"]}, body, uow
        )
    sha1 = headers["X-Hub-Signature"].replace("sha256=", "sha1=")
    with pytest.raises(WebhookSignatureError):
        await bitbucket.verify_stored({**_lower(headers), "x-hub-signature": sha1}, body, uow)


def test_gitlab_notes_and_label_changes_read_as_thread_events() -> None:
    (on_issue,) = read_gitlab_delivery(json.dumps(gitlab_example("note_issue"))).events
    assert on_issue.kind is ThreadEventKind.COMMENTED
    assert (on_issue.thread.repository, on_issue.thread.number) == ("gitlab-org/gitlab-test", 17)
    assert not on_issue.thread.is_pull_request
    assert (on_issue.sender.account_id, on_issue.sender.login) == ("1", "root")
    assert (on_issue.comment_id, on_issue.comment_body) == ("1241", "Hello world")
    (on_mr,) = read_gitlab_delivery(json.dumps(gitlab_example("note_merge_request"))).events
    assert on_mr.thread.is_pull_request
    assert on_mr.thread.number == 1
    assert on_mr.title == "Tempora et eos debitis quae laborum et."
    (merge,) = read_gitlab_delivery(json.dumps(gitlab_example("merge_request_labeled"))).events
    assert (merge.kind, merge.label, merge.thread.number) == (
        ThreadEventKind.LABELED,
        "Platform",
        1,
    )
    assert merge.thread.is_pull_request
    assert merge.title == "MS-Viewport"
    (labeled,) = read_gitlab_delivery(json.dumps(gitlab_example("issue_labeled"))).events
    assert labeled.kind is ThreadEventKind.LABELED
    assert labeled.label == "Platform"  # added; "API" was there before
    assert labeled.thread.number == 23
    assert labeled.body == "Create new API for manipulations with repository"


def test_gitlab_edits_system_notes_and_commit_notes_are_no_events() -> None:
    for change in (
        {"action": "update"},
        {"system": True},
        {"noteable_type": "Commit"},
        {"noteable_type": "Snippet"},
    ):
        payload = gitlab_example("note_issue")
        payload["object_attributes"].update(change)
        assert read_gitlab_delivery(json.dumps(payload)).events == (), change
    unchanged = gitlab_example("issue_labeled")
    unchanged["changes"]["labels"]["current"] = unchanged["changes"]["labels"]["previous"]
    assert read_gitlab_delivery(json.dumps(unchanged)).events == ()
    del unchanged["changes"]["labels"]
    assert read_gitlab_delivery(json.dumps(unchanged)).events == ()


def test_bitbucket_comments_read_as_thread_events() -> None:
    pull = read_bitbucket_delivery(
        "pullrequest:comment_created", json.dumps(bitbucket_example("pullrequest_comment_created"))
    )
    (event,) = pull.events
    assert (pull.repository, pull.web_url) == (
        "team_name/repo_name",
        "https://bitbucket.org/team_name/repo_name",
    )
    assert event.thread.is_pull_request
    assert event.thread.number == 1
    assert event.sender.account_id == "{d301aafa-d676-4ee0-88be-962be7417567}"
    assert event.sender.login == "ada"
    assert (event.comment_id, event.comment_body) == ("17", "Comment text")
    assert event.body == "Description of pull request"
    issue = read_bitbucket_delivery(
        "issue:comment_created", json.dumps(bitbucket_example("issue_comment_created"))
    )
    (on_issue,) = issue.events
    assert not on_issue.thread.is_pull_request
    assert on_issue.body == "Issue description"
    other = read_bitbucket_delivery(
        "pullrequest:created", json.dumps(bitbucket_example("pullrequest_comment_created"))
    )
    assert other.events == ()


def _received(source: str, event: str, payload: Any, delivery_id: str = "d-1") -> WebhookDelivery:
    return WebhookDelivery.receive(
        source=source, delivery_id=delivery_id, event=event, body=json.dumps(payload), now=T0
    )


async def _process(store: FakeStore, source: WebhookSource, delivery: WebhookDelivery) -> str:
    uow = FakeUnitOfWork(store)
    outcome = await source.process(delivery, uow)
    await uow.commit()
    return outcome


def _queued(store: FakeStore) -> list[ResolverTrigger]:
    jobs = [j for j in store.live.jobs.values() if j.kind == ANSWER_TRIGGER]
    return [ResolverTrigger.of_job(dict(j.payload)) for j in jobs]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@openhands please fix this", "mention trigger queued"),
        ("@OpenHands, fix this", "mention trigger queued"),
        ("cc @openhands-dev", "ignored: no trigger"),
        ("write to me@openhands.dev", "ignored: no trigger"),
        ("`@openhands` is the handle", "ignored: no trigger"),
        ("no mention at all", "ignored: no trigger"),
    ],
)
async def test_a_gitlab_note_mentioning_the_handle_exactly_queues_a_trigger(
    body: str, expected: str
) -> None:
    store = await _store()
    payload = gitlab_example("note_merge_request")
    payload["object_attributes"]["note"] = body
    outcome = await _process(store, gitlab, _received("gitlab", "note_hook", payload))
    assert outcome == expected
    queued = _queued(store)
    assert len(queued) == (1 if expected.endswith("queued") else 0)
    if queued:
        (trigger,) = queued
        assert trigger.installation_id == "gl-1"
        assert trigger.kind is TriggerKind.MENTION
        assert trigger.event.thread.is_pull_request
        assert trigger.key == "webhook:gitlab:d-1"


async def test_a_gitlab_label_added_queues_a_trigger_and_another_label_does_not() -> None:
    store = await _store()
    labeled = gitlab_example("issue_labeled")
    outcome = await _process(store, gitlab, _received("gitlab", "issue_hook", labeled))
    assert outcome == "label trigger queued"
    (trigger,) = _queued(store)
    assert (trigger.installation_id, trigger.kind) == ("gl-2", TriggerKind.LABEL)
    other = gitlab_example("issue_labeled")
    other["changes"]["labels"]["current"][0]["title"] = "Backend"
    outcome = await _process(store, gitlab, _received("gitlab", "issue_hook", other, "d-2"))
    assert outcome == "ignored: no trigger"


async def test_the_acting_accounts_own_note_never_triggers() -> None:
    store = await _store()
    own = gitlab_example("note_issue")
    own["object_attributes"]["note"] = "@openhands I'm on it!"
    own["user"].update(id=42, username="renamed-since")
    assert await _process(store, gitlab, _received("gitlab", "note_hook", own)) == (
        "ignored: no trigger"
    )
    bot = gitlab_example("note_issue")
    bot["object_attributes"]["note"] = "@openhands"
    bot["user"]["bot"] = True
    assert await _process(store, gitlab, _received("gitlab", "note_hook", bot, "d-2")) == (
        "ignored: no trigger"
    )
    assert _queued(store) == []


async def test_a_delivery_for_a_repository_at_another_address_is_not_answered() -> None:
    store = await _store()
    payload = gitlab_example("note_issue")
    payload["object_attributes"]["note"] = "@openhands fix"
    payload["project"]["web_url"] = "https://gitlab.other.example/gitlab-org/gitlab-test"
    outcome = await _process(store, gitlab, _received("gitlab", "note_hook", payload))
    assert outcome == "ignored: the resolver is not enabled on the repository"
    assert _queued(store) == []


async def test_a_bitbucket_mention_queues_a_trigger_and_an_app_users_comment_does_not() -> None:
    store = await _store()
    payload = bitbucket_example("pullrequest_comment_created")
    payload["comment"]["content"]["raw"] = "@openhands can you fix the build?"
    event = "pullrequest:comment_created"
    assert await _process(store, bitbucket, _received("bitbucket", event, payload)) == (
        "mention trigger queued"
    )
    (trigger,) = _queued(store)
    assert (trigger.installation_id, trigger.event.thread.number) == ("bb-1", 1)
    app = bitbucket_example("issue_comment_created")
    app["comment"]["content"]["raw"] = "@openhands"
    app["actor"]["type"] = "app_user"
    assert await _process(
        store, bitbucket, _received("bitbucket", "issue:comment_created", app, "d-2")
    ) == ("ignored: no trigger")


async def test_the_organizations_own_handle_and_label_replace_the_servers() -> None:
    store = await _store()
    store.live.resolver_settings[TENANT.org_id] = ResolverSettings(
        org_id=TENANT.org_id, label="fix-me", handle="@acme-bot"
    )
    store.commit()
    payload = gitlab_example("note_merge_request")
    payload["object_attributes"]["note"] = "@openhands fix"
    assert await _process(store, gitlab, _received("gitlab", "note_hook", payload)) == (
        "ignored: no trigger"
    )
    payload["object_attributes"]["note"] = "@acme-bot fix"
    assert await _process(store, gitlab, _received("gitlab", "note_hook", payload, "d-2")) == (
        "mention trigger queued"
    )
    labeled = gitlab_example("issue_labeled")  # adds "Platform", the server's label here
    assert await _process(store, gitlab, _received("gitlab", "issue_hook", labeled, "d-3")) == (
        "ignored: no trigger"
    )
    labeled["changes"]["labels"]["current"][0]["title"] = "Fix-Me"
    assert await _process(store, gitlab, _received("gitlab", "issue_hook", labeled, "d-4")) == (
        "label trigger queued"
    )


async def test_a_groups_hook_answers_a_note_on_a_project_under_it() -> None:
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    await uow.repository_hooks.add(
        RepositoryHook(
            id_="gl-group",
            provider=GL,
            web_url="http://example.com",
            repository="gitlab-org",
            org_id=TENANT.org_id,
            enabled_by=TENANT.user_id,
            secret=GITLAB_SECRET,
            group=True,
            created_at=T0,
            updated_at=T0,
        )
    )
    await uow.commit()
    payload = gitlab_example("note_issue")
    payload["object_attributes"]["note"] = "@openhands have a look"
    body, headers = gitlab_delivery(payload, token=GITLAB_SECRET)
    signed = await gitlab.verify_stored(_lower(headers), body, FakeUnitOfWork(store))
    assert signed.event == "note_hook"
    outcome = await _process(store, gitlab, _received("gitlab", "note_hook", payload))
    assert outcome == "mention trigger queued"
    (trigger,) = _queued(store)
    assert trigger.installation_id == "gl-group"
    assert trigger.event.thread.repository == "gitlab-org/gitlab-test"
    elsewhere = gitlab_example("note_issue")
    elsewhere["project"].update(
        path_with_namespace="gitlab-orgs/x", web_url="http://example.com/gitlab-orgs/x"
    )
    other_body, other_headers = gitlab_delivery(elsewhere, token=GITLAB_SECRET)
    with pytest.raises(WebhookSignatureError):
        await gitlab.verify_stored(_lower(other_headers), other_body, FakeUnitOfWork(store))
