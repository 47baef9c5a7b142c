from application.analytics import ProductAnalytics
from application.experiments import ConversationExperiments
from application.ports.analytics import Analytics, TrackedEvent, TrackedPerson
from application.ports.clock import Clock
from tests.fakes.feature_flags import FakeFeatureFlags

__all__ = ("RecordingAnalytics", "no_experiments")


class RecordingAnalytics(Analytics):
    """Keeps what an analytics project would receive: ``events`` and ``people`` marked
    consented; the rest it counts in ``dropped``, as the real adapter's second net drops it."""

    def __init__(self) -> None:
        self.events: list[TrackedEvent] = []
        self.people: list[TrackedPerson] = []
        self.dropped = 0

    def capture(self, event: TrackedEvent) -> None:
        if event.consented:
            self.events.append(event)
        else:
            self.dropped += 1

    def identify(self, person: TrackedPerson) -> None:
        if person.consented:
            self.people.append(person)
        else:
            self.dropped += 1

    def named(self, name: str) -> list[TrackedEvent]:
        return [e for e in self.events if e.event.value == name]


def no_experiments(clock: Clock) -> ConversationExperiments:
    """Conversation experiments with none configured, reporting to nowhere."""
    return ConversationExperiments(
        (), FakeFeatureFlags(), ProductAnalytics(RecordingAnalytics()), clock
    )
