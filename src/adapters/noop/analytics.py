from application.ports.analytics import Analytics, TrackedEvent, TrackedPerson
from application.ports.feature_flags import FeatureFlags
from domain.identity.entities import UserId

__all__ = ("NoAnalytics",)


class NoAnalytics(Analytics, FeatureFlags):
    """Where no analytics service is configured: nothing is sent anywhere, and no flag gives
    a variant, so every experiment takes its default."""

    def capture(self, event: TrackedEvent) -> None:
        del event

    def identify(self, person: TrackedPerson) -> None:
        del person

    def variant(self, flag: str, user_id: UserId) -> str | None:
        del flag, user_id
        return None
