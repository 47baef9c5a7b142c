from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.identity.entities import UserId

__all__ = ("Analytics", "AnalyticsEvent", "PropertyValue", "TrackedEvent", "TrackedPerson")

PropertyValue = str | int | float | bool | None


class AnalyticsEvent(StrEnum):
    """Every event the product reports; nothing else is ever captured."""

    SIGNED_UP = "user_signed_up"
    SIGNED_IN = "user_signed_in"
    CONVERSATION_STARTED = "conversation_started"
    CONVERSATION_FINISHED = "conversation_finished"
    CREDITS_PURCHASED = "credits_purchased"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackedEvent:
    """One event of one person, known to the analytics by our user id and nothing else: no
    email, name, token or secret among its properties."""

    user_id: UserId
    event: AnalyticsEvent
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    consented: bool
    """The person's stored consent allowed it; an adapter drops an event without it."""
    occurred_at: datetime | None = None
    """When it happened, when that was not now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackedPerson:
    """Traits of a person the analytics keep on its profile, under the same rules as an
    event's properties."""

    user_id: UserId
    traits: Mapping[str, PropertyValue] = field(default_factory=dict)
    consented: bool


class Analytics(Protocol):
    """Product analytics. Called only for people who consented, and drops anything not marked
    ``consented`` as a second net. Never fails and never waits on the network: what it is
    told is queued and sent in the background, or dropped when the service is unreachable."""

    @abstractmethod
    def capture(self, event: TrackedEvent) -> None: ...

    @abstractmethod
    def identify(self, person: TrackedPerson) -> None: ...
