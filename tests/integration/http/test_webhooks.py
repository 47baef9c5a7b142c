"""The webhook inbox over HTTP, on PostgreSQL with the server's own job workers: a signed
delivery is accepted and processed once, however often and in whatever order it comes; a
forged one is refused with nothing said."""

import asyncio
from typing import Any

import pytest

from domain.jobs.entities import JobStatus
from domain.webhooks.entities import DeliveryStatus
from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.db import sqla_ports
from tests.integration.http.conftest import Client, serve
from tests.support.polling import until_awaited
from tests.support.webhooks import GITHUB_SECRET, github_delivery

pytestmark = pytest.mark.postgres


def _settings(postgres_url: str, *, workers: bool = True) -> Settings:
    settings = clustered_settings(postgres_url)
    return settings.with_changes(
        webhooks=settings.webhooks.with_changes(
            github_secrets=("old-secret-16-chars", GITHUB_SECRET)
        ),
        jobs=settings.jobs.with_changes(in_serve=workers, poll_interval_s=0.1),
    )


async def _deliver(client: Client, body: bytes, headers: dict[str, str]) -> Any:
    return await client.post("/api/webhooks/github", content=body, headers=headers)


async def _deliveries(postgres_url: str) -> list[Any]:
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        return await ports.uow.webhooks.list()


async def _jobs(postgres_url: str, kind: str = "webhook.process") -> list[Any]:
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        return await ports.uow.jobs.list(kind=kind)


async def test_a_delivery_sent_twice_is_accepted_once_and_processed_once(
    postgres_url: str,
) -> None:
    body, headers = github_delivery({"zen": "Keep it logically awesome."}, event="ping")
    async with serve(_settings(postgres_url)) as client:
        first = await _deliver(client, body, headers)
        again = await _deliver(client, body, headers)
        assert (first.status_code, first.content) == (202, b"")
        assert (again.status_code, again.content) == (202, b"")

        async def processed() -> bool:
            found = await _deliveries(postgres_url)
            jobs = await _jobs(postgres_url)
            return (
                bool(found)
                and all(d.status is DeliveryStatus.PROCESSED for d in found)
                and all(j.status in (JobStatus.DONE, JobStatus.DEAD) for j in jobs)
            )

        # Both deliveries were taken before they answered, so once nothing waits, anything run
        # twice has been.
        await until_awaited(processed, "the delivery processed")

    [delivery] = await _deliveries(postgres_url)
    assert (delivery.source, delivery.event, delivery.outcome) == ("github", "ping", "pong")
    assert delivery.delivery_id == headers["X-GitHub-Delivery"]
    assert delivery.body == body.decode()
    [job] = await _jobs(postgres_url)
    assert (job.status.value, job.attempts) == ("done", 1)


async def test_deliveries_taken_while_no_worker_runs_are_processed_once_one_starts(
    postgres_url: str,
) -> None:
    later, earlier = (
        github_delivery({"action": "closed"}, event="issues"),
        github_delivery({"action": "opened"}, event="issues"),
    )
    async with serve(_settings(postgres_url, workers=False)) as client:
        for body, headers in (later, earlier, later):  # out of order, and one twice
            assert (await _deliver(client, body, headers)).status_code == 202
        await asyncio.sleep(0.5)
        assert {d.status for d in await _deliveries(postgres_url)} == {DeliveryStatus.RECEIVED}

    async with serve(_settings(postgres_url)):

        async def all_processed() -> bool:
            return {d.status for d in await _deliveries(postgres_url)} == {DeliveryStatus.PROCESSED}

        await until_awaited(all_processed, "every delivery processed")

    deliveries = await _deliveries(postgres_url)
    assert len(deliveries) == 2
    assert {d.outcome for d in deliveries} == {"ignored: nothing acts on issues events"}
    assert [j.attempts for j in await _jobs(postgres_url)] == [1, 1]


@pytest.mark.parametrize(
    "forge",
    ["other-secret", "no-signature", "tampered-body", "sha1-scheme"],
)
async def test_a_forged_delivery_is_401_and_kept_nowhere(postgres_url: str, forge: str) -> None:
    body, headers = github_delivery({"action": "opened"})
    if forge == "other-secret":
        body, headers = github_delivery({"action": "opened"}, secret="not-our-secret-at-all")
    elif forge == "no-signature":
        del headers["X-Hub-Signature-256"]
    elif forge == "tampered-body":
        body = body.replace(b"opened", b"closed")
    else:
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256", "sha1")
    async with serve(_settings(postgres_url, workers=False)) as client:
        response = await _deliver(client, body, headers)

    assert response.status_code == 401
    problem = response.json()
    assert problem["code"] == "webhook-signature-invalid"
    assert GITHUB_SECRET not in response.text
    assert await _deliveries(postgres_url) == []
    assert await _jobs(postgres_url) == []


async def test_a_delivery_signed_with_the_secret_being_rotated_out_is_accepted(
    postgres_url: str,
) -> None:
    body, headers = github_delivery({"zen": "x"}, event="ping", secret="old-secret-16-chars")
    async with serve(_settings(postgres_url, workers=False)) as client:
        assert (await _deliver(client, body, headers)).status_code == 202


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"X-GitHub-Delivery": ""}, 422, "X-GitHub-Delivery"),
        ({"X-GitHub-Event": ""}, 422, "X-GitHub-Event"),
        ({"X-GitHub-Delivery": "x" * 201}, 422, "delivery id"),
    ],
)
async def test_a_signed_delivery_without_its_names_is_refused_by_name(
    postgres_url: str, change: dict[str, str], status: int, words: str
) -> None:
    body, headers = github_delivery({"zen": "x"})
    headers |= change
    async with serve(_settings(postgres_url, workers=False)) as client:
        response = await _deliver(client, body, headers)
    assert response.status_code == status, response.text
    assert words in response.text
    assert await _deliveries(postgres_url) == []


async def test_a_source_that_is_not_configured_is_404(postgres_url: str) -> None:
    body, headers = github_delivery({"zen": "x"})
    async with serve(clustered_settings(postgres_url)) as client:
        github = await client.post("/api/webhooks/github", content=body, headers=headers)
        other = await client.post("/api/webhooks/nowhere", content=body, headers=headers)
    assert (github.status_code, other.status_code) == (404, 404)
