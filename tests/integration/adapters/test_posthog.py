"""PostHog through its SDK, beyond the contract: unreachable, it fails nothing and every flag
gives no variant; the secret key reads definitions and is never sent with events; the
loopback stand-in speaks what the SDK sends (gzipped batches, remote evaluation) the way
local evaluation buckets."""

import asyncio
from collections.abc import Iterator
from uuid import uuid4

import pytest
from posthog import Posthog

from adapters.posthog import PostHogAnalytics, PostHogProject
from application.ports.analytics import AnalyticsEvent, TrackedEvent
from domain.identity.entities import UserId
from tests.fakes.feature_flags import FlagDefinition, bucket
from tests.support.polling import until
from tests.support.posthog import PostHogReceiver, closed_port_url, run_posthog

SPLIT = FlagDefinition(key="prompt", variants={"long": 50, "short": 50})
PEOPLE = [str(uuid4()) for _ in range(20)]


@pytest.fixture
def receiver() -> Iterator[PostHogReceiver]:
    with run_posthog(SPLIT) as running:
        yield running


def _client(host: str, *, secret_key: str | None) -> PostHogAnalytics:
    return PostHogAnalytics(
        PostHogProject(
            project_key="phc_test_project",
            secret_key=secret_key,
            host=host,
            poll_interval_s=0.05,
            timeout_s=2.0,
        )
    )


async def test_unreachable_it_fails_nothing_and_no_flag_gives_a_variant() -> None:
    client = _client(closed_port_url(), secret_key="phs_test")
    client.start()
    client.capture(
        TrackedEvent(
            user_id=UserId(uuid4()), event=AnalyticsEvent.SIGNED_IN, properties={}, consented=True
        )
    )
    assert {client.variant("prompt", UserId(uuid4())) for _ in range(5)} == {None}
    await asyncio.to_thread(client.flush)
    await asyncio.to_thread(client.close)


async def test_without_the_secret_key_no_definitions_are_read(receiver: PostHogReceiver) -> None:
    client = _client(receiver.url, secret_key=None)
    client.start()
    user = UserId(uuid4())
    client.capture(
        TrackedEvent(user_id=user, event=AnalyticsEvent.SIGNED_IN, properties={}, consented=True)
    )
    await asyncio.to_thread(client.flush)
    assert client.variant("prompt", user) is None
    assert (receiver.definition_polls, len(receiver.named("user_signed_in"))) == (0, 1)
    await asyncio.to_thread(client.close)


async def test_a_wrong_secret_key_reads_no_definitions(receiver: PostHogReceiver) -> None:
    client = _client(receiver.url, secret_key="phs_wrong")
    client.start()
    await until(lambda: receiver.refused > 0, "the definitions asked for")
    assert client.variant("prompt", UserId(uuid4())) is None
    await asyncio.to_thread(client.close)


async def test_the_secret_key_reads_definitions_and_is_never_sent_with_events(
    receiver: PostHogReceiver,
) -> None:
    client = _client(receiver.url, secret_key=receiver.secret_key)
    client.start()
    user = UserId(uuid4())
    await until(lambda: client.variant("prompt", user) is not None, "the definitions loaded")
    assert client.variant("prompt", user) == bucket(SPLIT, str(user))
    client.capture(
        TrackedEvent(
            user_id=user,
            event=AnalyticsEvent.CONVERSATION_STARTED,
            properties={"$feature/prompt": client.variant("prompt", user)},
            consented=True,
        )
    )
    await asyncio.to_thread(client.flush)
    (sent,) = receiver.named("conversation_started")
    assert sent["distinct_id"] == str(user)
    assert sent["properties"]["$geoip_disable"] is True
    assert all(receiver.secret_key.encode() not in body for body in receiver.bodies)
    assert receiver.named("$feature_flag_called") == []
    await asyncio.to_thread(client.close)


async def test_the_stand_in_takes_gzipped_batches_and_evaluates_remotely_as_locally(
    receiver: PostHogReceiver,
) -> None:
    sdk = Posthog(receiver.project_key, host=receiver.url, gzip=True, disable_geoip=True)
    try:
        remote = {
            who: sdk.evaluate_flags(who).get_flag("prompt", send_feature_flag_events=False)
            for who in PEOPLE
        }
        sdk.capture("gzipped", distinct_id=PEOPLE[0])
        await asyncio.to_thread(sdk.flush)
    finally:
        await asyncio.to_thread(sdk.shutdown)
    assert remote == {who: bucket(SPLIT, who) for who in PEOPLE}
    assert set(remote.values()) == {"long", "short"}
    assert [e["distinct_id"] for e in receiver.named("gzipped")] == [PEOPLE[0]]
    assert receiver.gzipped >= 1
