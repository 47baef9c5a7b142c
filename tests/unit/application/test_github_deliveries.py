"""GitHub's own example deliveries through the GitHub webhook source: signed as GitHub's
signer signs them, installations kept in step, and a trigger (never a bot's) queued as a job
with the delivery processed."""

import json
from typing import Any

import pytest

from application.resolver import ANSWER_TRIGGER, ResolverTrigger, read_github_delivery
from application.resolver.github_webhooks import GithubWebhooks
from domain.git.providers import ProviderKind
from domain.jobs.entities import JobStatus
from domain.resolver.triggers import ResolverPolicy, ThreadEventKind, TriggerKind
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError
from tests.factories import T0
from tests.fakes import FakeStore
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.github_examples import github_example, octokit_sign, signed_example
from tests.support.webhooks import GITHUB_SECRET

GH = ProviderKind.GITHUB
sut = GithubWebhooks(
    secrets=(GITHUB_SECRET,), policy=ResolverPolicy(own_logins=frozenset({"maestrist[bot]"}))
)


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_what_githubs_signer_signs_is_verified_and_a_changed_byte_is_not() -> None:
    payload = github_example("issue_comment", "created", installation=4242)
    body, headers = signed_example(payload, event="issue_comment", secret=GITHUB_SECRET)
    signed = sut.verify(_lower(headers), body)
    assert (signed.event, signed.delivery_id) == ("issue_comment", headers["X-GitHub-Delivery"])
    with pytest.raises(WebhookSignatureError):
        sut.verify(_lower(headers), body.replace(b"Codertocat", b"Codertokat"))
    (other,) = octokit_sign("another-secret-of-16-chars", [body])
    with pytest.raises(WebhookSignatureError):
        sut.verify({**_lower(headers), "x-hub-signature-256": other}, body)


def _delivery(event: str, payload: Any, delivery_id: str = "d-1") -> WebhookDelivery:
    return WebhookDelivery.receive(
        source="github", delivery_id=delivery_id, event=event, body=json.dumps(payload), now=T0
    )


async def _process(store: FakeStore, delivery: WebhookDelivery) -> str:
    uow = FakeUnitOfWork(store)
    outcome = await sut.process(delivery, uow)
    await uow.commit()
    return outcome


async def test_installation_events_keep_the_installation_in_step() -> None:
    store = FakeStore()
    created = github_example("installation", "created")
    assert await _process(store, _delivery("installation", created)) == "installation created"
    kept = store.live.app_installations[GH, "957387"]
    assert (kept.account_login, kept.account_type, kept.repositories) == (
        "Codertocat",
        "User",
        ("Codertocat/Hello-World",),
    )
    added = github_example("installation_repositories", "added")
    await _process(store, _delivery("installation_repositories", added, "d-2"))
    assert store.live.app_installations[GH, "957387"].repositories == (
        "Codertocat/Hello-World",
        "Codertocat/Space",
    )
    removed = github_example("installation_repositories", "removed")
    await _process(store, _delivery("installation_repositories", removed, "d-3"))
    gone = {r["full_name"] for r in removed["repositories_removed"]}
    assert gone
    assert not gone & set(store.live.app_installations[GH, "957387"].repositories)
    suspended = github_example("installation", "suspend")
    suspended["installation"]["id"] = 957387
    await _process(store, _delivery("installation", suspended, "d-4"))
    assert store.live.app_installations[GH, "957387"].suspended
    deleted = github_example("installation", "deleted")
    deleted["installation"]["id"] = 957387
    assert await _process(store, _delivery("installation", deleted, "d-5")) == (
        "installation removed"
    )
    assert (GH, "957387") not in store.live.app_installations


def _queued(store: FakeStore) -> list[ResolverTrigger]:
    return [
        ResolverTrigger.of_job(dict(job.payload))
        for job in store.live.jobs.values()
        if job.kind == ANSWER_TRIGGER and job.status is JobStatus.QUEUED
    ]


async def test_a_mention_in_a_comment_is_queued_with_what_it_asks() -> None:
    store = FakeStore()
    payload = github_example("issue_comment", "created", installation=4242)
    payload["comment"]["body"] = "@openhands please fix the spelling"
    outcome = await _process(store, _delivery("issue_comment", payload))
    assert outcome == "mention trigger queued"
    (trigger,) = _queued(store)
    assert trigger.kind is TriggerKind.MENTION
    assert trigger.installation_id == "4242"
    assert trigger.key == "webhook:github:d-1"
    event = trigger.event
    assert (event.thread.repository, event.thread.number) == ("Codertocat/Hello-World", 1)
    assert event.comment_body == "@openhands please fix the spelling"
    assert event.comment_id == str(payload["comment"]["id"])
    assert event.sender.account_id == str(payload["sender"]["id"])
    assert event.title == payload["issue"]["title"]


async def test_a_review_comment_and_a_label_on_a_pull_request_are_triggers() -> None:
    store = FakeStore()
    review = github_example("pull_request_review_comment", "created", installation=4242)
    review["comment"]["body"] = "@openhands rename this"
    assert await _process(store, _delivery("pull_request_review_comment", review)) == (
        "mention trigger queued"
    )
    labeled = github_example("pull_request", "labeled", installation=4242)
    labeled["label"]["name"] = "openhands"
    assert await _process(store, _delivery("pull_request", labeled, "d-2")) == (
        "label trigger queued"
    )
    first, second = sorted(_queued(store), key=lambda t: t.key)
    assert first.event.comment_is_review
    assert first.event.thread.is_pull_request
    assert second.kind is TriggerKind.LABEL
    assert second.event.thread.is_pull_request


async def test_what_is_not_a_trigger_is_acknowledged_and_queues_nothing() -> None:
    store = FakeStore()
    plain = github_example("issue_comment", "created", installation=4242)
    labeled_bug = github_example("issues", "labeled", installation=4242)
    by_bot = github_example("issue_comment", "created", installation=4242)
    by_bot["comment"]["body"] = "@openhands I'm on it!"
    by_bot["sender"]["type"] = "Bot"
    by_app = github_example("issue_comment", "created", installation=4242)
    by_app["comment"]["body"] = "@openhands summary"
    by_app["sender"]["login"] = "maestrist[bot]"
    no_installation = github_example("issue_comment", "created")
    no_installation["comment"]["body"] = "@openhands fix"
    edited = github_example("issue_comment", "edited", installation=4242)
    edited["comment"]["body"] = "@openhands fix"
    outcomes = [
        await _process(store, _delivery(event, payload, f"d-{n}"))
        for n, (event, payload) in enumerate(
            [
                ("issue_comment", plain),
                ("issues", labeled_bug),
                ("issue_comment", by_bot),
                ("issue_comment", by_app),
                ("issue_comment", no_installation),
                ("issue_comment", edited),
                ("star", {"action": "created"}),
                ("ping", {"zen": "Keep it logically awesome."}),
            ]
        )
    ]
    assert outcomes == [
        "ignored: no trigger",
        "ignored: no trigger",
        "ignored: no trigger",
        "ignored: no trigger",
        "ignored: not delivered to an app installation",
        "ignored: nothing acts on issue_comment events",
        "ignored: nothing acts on star events",
        "pong",
    ]
    assert _queued(store) == []


async def test_without_an_app_every_event_is_only_acknowledged() -> None:
    store = FakeStore()
    payload = github_example("issue_comment", "created", installation=4242)
    payload["comment"]["body"] = "@openhands fix"
    uow = FakeUnitOfWork(store)
    plain = GithubWebhooks(secrets=(GITHUB_SECRET,))
    assert await plain.process(_delivery("issue_comment", payload), uow) == (
        "ignored: nothing acts on issue_comment events"
    )
    assert store.live.jobs == {}


async def test_a_body_that_is_not_an_object_is_acknowledged() -> None:
    store = FakeStore()
    outcome = await _process(store, _delivery("issues", [1, 2]))
    assert outcome == "ignored: The delivery's body is not a JSON object."


def test_fields_missing_or_of_another_type_read_as_absent() -> None:
    event = read_github_delivery(
        "issue_comment", '{"action": "created", "issue": {"number": "7"}}', T0
    )
    assert event.thread_event is None
    labeled = github_example("issues", "labeled", installation=9)
    found = read_github_delivery("issues", json.dumps(labeled), T0)
    assert found.thread_event is not None
    assert found.thread_event.kind is ThreadEventKind.LABELED
    assert found.thread_event.label == "bug"
    assert found.installation_id == "9"
