import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from posthog import Posthog

from application.ports.analytics import Analytics, PropertyValue, TrackedEvent, TrackedPerson
from application.ports.feature_flags import FeatureFlags
from domain.identity.entities import UserId

__all__ = ("CONSENTED", "PostHogAnalytics", "PostHogProject")

_log = logging.getLogger(__name__)

CONSENTED = "consented"
"""The property every event sent carries: set by the application only with consent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PostHogProject:
    project_key: str
    """The project's public key, which events are sent with."""
    secret_key: str | None
    """A project secret key (or personal API key) that may read flag definitions; without it
    no flag is evaluated and every experiment takes its default."""
    host: str
    poll_interval_s: float
    timeout_s: float = 10.0
    """How long one upload or one poll of definitions may take."""


def consented_only(message: dict[str, Any]) -> dict[str, Any] | None:
    """``before_send``: the second net under the application's consent check. An event not
    marked consented is dropped here, whatever sent it."""
    properties = message.get("properties")
    if not isinstance(properties, dict) or properties.get(CONSENTED) is not True:
        return None
    return message


class PostHogAnalytics(Analytics, FeatureFlags):
    """PostHog through its SDK: events queue in process and a background thread sends them in
    batches (dropped past the queue's bound while PostHog is unreachable); GeoIP is off. Flags
    are evaluated in process from definitions a background thread polls, never from a request
    to PostHog: before the first poll answers, every flag gives no variant."""

    def __init__(self, project: PostHogProject) -> None:
        self._secret = project.secret_key is not None
        self._client = Posthog(
            project.project_key,
            host=project.host,
            secret_key=project.secret_key,
            poll_interval=project.poll_interval_s,
            disable_geoip=True,
            before_send=consented_only,
            timeout=project.timeout_s,
            feature_flags_request_timeout_seconds=project.timeout_s,
            max_retries=2,
        )
        self._poller: threading.Thread | None = None

    def start(self) -> None:
        """Start polling flag definitions, the first poll in the background: nothing waits
        on it."""
        if self._secret and self._poller is None:
            self._poller = threading.Thread(
                target=self._client.load_feature_flags, name="posthog-flags", daemon=True
            )
            self._poller.start()

    def capture(self, event: TrackedEvent) -> None:
        self._client.capture(
            event.event.value,
            distinct_id=str(event.user_id),
            properties=_marked(event.properties, consented=event.consented),
            timestamp=event.occurred_at,
        )

    def identify(self, person: TrackedPerson) -> None:
        self._client.capture(
            "$set",
            distinct_id=str(person.user_id),
            properties={
                "$set": dict(person.traits),
                **_marked({}, consented=person.consented),
            },
        )

    def variant(self, flag: str, user_id: UserId) -> str | None:
        if not self._secret or self._client.feature_flags is None:
            return None  # no definitions yet: evaluating now would fetch them on this path
        try:
            found = self._client.evaluate_flags(
                str(user_id), only_evaluate_locally=True, flag_keys=[flag], disable_geoip=True
            ).get_flag(flag, send_feature_flag_events=False)
        except Exception:  # noqa: BLE001  # a flag never fails its caller: the default applies
            _log.warning("feature flag %s could not be evaluated", flag, exc_info=True)
            return None
        return found if isinstance(found, str) else None

    def flush(self) -> None:
        """Send what is queued now (blocks; for shutdown and tests)."""
        self._client.flush()

    def close(self) -> None:
        """Send what is queued, then stop the sender and the poller (blocks)."""
        self._client.shutdown()


def _marked(properties: Mapping[str, PropertyValue], *, consented: bool) -> dict[str, Any]:
    return {**properties, CONSENTED: consented}
