"""``Analytics`` and ``FeatureFlags``, the fakes and PostHog through its SDK against the
loopback stand-in, alike: a consented event arrives under our user id with its properties,
one not marked consented never does (checked after a flush); a person's traits arrive the
same way; a flag gives each person one stable variant, none when unknown, off or not rolled
out to them."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from adapters.posthog import PostHogAnalytics, PostHogProject
from application.ports.analytics import (
    Analytics,
    AnalyticsEvent,
    PropertyValue,
    TrackedEvent,
    TrackedPerson,
)
from application.ports.feature_flags import FeatureFlags
from domain.identity.entities import UserId
from tests.fakes.analytics import RecordingAnalytics
from tests.fakes.feature_flags import FakeFeatureFlags, FlagDefinition
from tests.support.polling import until
from tests.support.posthog import PostHogReceiver, run_posthog

Captured = tuple[str, str, dict[str, PropertyValue]]
"""(distinct id, event, properties) as the service keeps them, without the SDK's own."""
Identified = tuple[str, dict[str, PropertyValue]]


@dataclass
class AnalyticsProbe:
    sut: Analytics
    delivered: Callable[[], Awaitable[tuple[list[Captured], list[Identified]]]]
    """What the service received, once everything told was sent."""


def _sdk_free(properties: dict[str, Any]) -> dict[str, PropertyValue]:
    return {
        key: value
        for key, value in properties.items()
        if key != "consented" and (not key.startswith("$") or key.startswith("$feature/"))
    }


def _posthog(project: PostHogReceiver, *, poll_interval_s: float = 0.05) -> PostHogAnalytics:
    return PostHogAnalytics(
        PostHogProject(
            project_key=project.project_key,
            secret_key=project.secret_key,
            host=project.url,
            poll_interval_s=poll_interval_s,
        )
    )


@pytest.fixture
def receiver() -> Iterator[PostHogReceiver]:
    with run_posthog() as running:
        yield running


@pytest.fixture(params=["fake", "posthog"])
async def analytics(
    request: pytest.FixtureRequest, receiver: PostHogReceiver
) -> AsyncIterator[AnalyticsProbe]:
    if request.param == "fake":
        fake = RecordingAnalytics()

        async def recorded() -> tuple[list[Captured], list[Identified]]:
            return (
                [(str(e.user_id), e.event.value, dict(e.properties)) for e in fake.events],
                [(str(p.user_id), dict(p.traits)) for p in fake.people],
            )

        yield AnalyticsProbe(fake, recorded)
        return
    client = _posthog(receiver)

    async def flushed() -> tuple[list[Captured], list[Identified]]:
        await asyncio.to_thread(client.flush)
        sent = receiver.captured()
        return (
            [
                (m["distinct_id"], m["event"], _sdk_free(m["properties"]))
                for m in sent
                if m["event"] != "$set"
            ],
            [(m["distinct_id"], m["properties"]["$set"]) for m in sent if m["event"] == "$set"],
        )

    yield AnalyticsProbe(client, flushed)
    await asyncio.to_thread(client.close)


def _event(
    user: UserId, properties: dict[str, PropertyValue], *, consented: bool = True
) -> TrackedEvent:
    return TrackedEvent(
        user_id=user,
        event=AnalyticsEvent.CONVERSATION_FINISHED,
        properties=properties,
        consented=consented,
    )


async def test_a_consented_event_arrives_under_the_user_id_with_its_properties(
    analytics: AnalyticsProbe,
) -> None:
    user = UserId(uuid4())
    analytics.sut.capture(
        _event(
            user, {"status": "finished", "cost_usd": 0.25, "prompt_tokens": 12, "$feature/x": "b"}
        )
    )
    captured, identified = await analytics.delivered()
    assert captured == [
        (
            str(user),
            "conversation_finished",
            {"status": "finished", "cost_usd": 0.25, "prompt_tokens": 12, "$feature/x": "b"},
        )
    ]
    assert identified == []


async def test_an_event_not_marked_consented_is_dropped(analytics: AnalyticsProbe) -> None:
    someone, consenting = UserId(uuid4()), UserId(uuid4())
    analytics.sut.capture(_event(someone, {"status": "error"}, consented=False))
    analytics.sut.identify(TrackedPerson(user_id=someone, traits={"a": 1}, consented=False))
    analytics.sut.capture(_event(consenting, {"status": "stopped"}))
    captured, identified = await analytics.delivered()
    assert [(who, props) for who, _, props in captured] == [
        (str(consenting), {"status": "stopped"})
    ]
    assert identified == []


async def test_a_consented_persons_traits_arrive_under_the_user_id(
    analytics: AnalyticsProbe,
) -> None:
    user = UserId(uuid4())
    analytics.sut.identify(
        TrackedPerson(user_id=user, traits={"member_since": "2026-12-06"}, consented=True)
    )
    captured, identified = await analytics.delivered()
    assert captured == []
    assert identified == [(str(user), {"member_since": "2026-12-06"})]


@dataclass
class FlagsProbe:
    sut: FeatureFlags
    define: Callable[..., Awaitable[None]]
    """Serve these definitions (``FlagDefinition``s), and return once the flags follow them."""


@pytest.fixture(params=["fake", "posthog"])
async def flags(
    request: pytest.FixtureRequest, receiver: PostHogReceiver
) -> AsyncIterator[FlagsProbe]:
    canary = FlagDefinition(key="canary", variants={str(uuid4()): 100})
    if request.param == "fake":
        fake = FakeFeatureFlags()

        async def redefine_fake(*definitions: FlagDefinition) -> None:
            fake.define(*definitions)

        yield FlagsProbe(fake, redefine_fake)
        return
    client = _posthog(receiver)
    client.start()

    async def redefine(*definitions: FlagDefinition) -> None:
        # a canary of its own each time: when it shows, this set of definitions is loaded
        marker = FlagDefinition(key=canary.key, variants={str(uuid4()): 100})
        receiver.define(*definitions, marker)
        (expected,) = marker.variants
        await until(
            lambda: client.variant(canary.key, UserId(uuid4())) == expected,
            "the definitions polled",
        )

    yield FlagsProbe(client, redefine)
    await asyncio.to_thread(client.close)


PEOPLE = [UserId(uuid4()) for _ in range(40)]


async def test_a_flag_gives_everyone_its_only_variant(flags: FlagsProbe) -> None:
    await flags.define(FlagDefinition(key="prompt", variants={"long": 100}))
    assert {flags.sut.variant("prompt", who) for who in PEOPLE} == {"long"}


async def test_a_split_flag_gives_each_person_one_variant_and_some_of_each(
    flags: FlagsProbe,
) -> None:
    await flags.define(FlagDefinition(key="prompt", variants={"long": 50, "short": 50}))
    first = {who: flags.sut.variant("prompt", who) for who in PEOPLE}
    assert set(first.values()) == {"long", "short"}
    assert {who: flags.sut.variant("prompt", who) for who in PEOPLE} == first


async def test_an_unknown_an_inactive_or_a_not_rolled_out_flag_gives_no_variant(
    flags: FlagsProbe,
) -> None:
    await flags.define(
        FlagDefinition(key="off", variants={"a": 100}, active=False),
        FlagDefinition(key="nobody", variants={"a": 100}, rollout=0),
    )
    for flag in ("unknown", "off", "nobody"):
        assert {flags.sut.variant(flag, who) for who in PEOPLE[:5]} == {None}, flag


async def test_a_changed_flag_gives_its_new_variant(flags: FlagsProbe) -> None:
    await flags.define(FlagDefinition(key="prompt", variants={"long": 100}))
    assert flags.sut.variant("prompt", PEOPLE[0]) == "long"
    await flags.define(FlagDefinition(key="prompt", variants={"short": 100}))
    assert flags.sut.variant("prompt", PEOPLE[0]) == "short"
