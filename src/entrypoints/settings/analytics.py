"""Product analytics and experiments: PostHog when its project key is set, else nothing is
sent and every experiment takes its default variant."""

from dataclasses import dataclass

from domain.experiments.assignments import Experiment
from domain.shared.errors import InvalidValueError
from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import printable, url

__all__ = ("AnalyticsSettings", "experiments")


def experiments(raw: str) -> tuple[Experiment, ...]:
    """``name=default`` pairs separated by commas."""
    found: dict[str, Experiment] = {}
    for part in raw.split(","):
        name, equals, default = (piece.strip() for piece in part.partition("="))
        if not equals:
            raise ValueError(f"expected name=default_variant pairs, got {part.strip()[:60]!r}")
        try:
            experiment = Experiment(name=name, default=default)
        except InvalidValueError as exc:
            raise ValueError(exc.message) from None
        if name in found:
            raise ValueError(f"experiment {name!r} is named twice")
        found[name] = experiment
    return tuple(found.values())


def poll_interval(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not 1 <= value <= 3600:
        raise ValueError(f"expected 1 to 3600, got {raw}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsSettings(Section):
    """Where product analytics go and which experiments conversations take part in."""

    posthog_key: str | None = setting(
        "MAESTRIST_POSTHOG_KEY",
        "The PostHog project's API key (`phc_...`). Events (sign-up, sign-in, conversation "
        "started and finished, credits purchased) go there, only for people whose "
        "`analytics_consent` setting is on. Unset: no analytics are sent anywhere.",
        printable(200),
        default=None,
    )
    posthog_secret_key: str | None = setting(
        "MAESTRIST_POSTHOG_SECRET_KEY",
        "A PostHog project secret key (`phs_...`) or personal API key that may read feature "
        "flag definitions: the server polls them and evaluates flags itself. Unset: no flag "
        "is evaluated and every experiment takes its default variant.",
        printable(200),
        default=None,
        secret=True,
    )
    posthog_host: str = setting(
        "MAESTRIST_POSTHOG_HOST",
        "The PostHog ingestion address (`https://eu.i.posthog.com` for the EU cloud, or a "
        "self-hosted one).",
        url("https", "http"),
        default="https://us.i.posthog.com",
    )
    posthog_poll_interval_s: float = setting(
        "MAESTRIST_POSTHOG_POLL_INTERVAL",
        "Seconds between two polls of the feature flag definitions (1 to 3600): a flag's "
        "change reaches new conversations within this.",
        poll_interval,
        default=30.0,
    )
    experiments: tuple[Experiment, ...] = setting(
        "MAESTRIST_EXPERIMENTS",
        "The experiments conversations take part in, as `name=default_variant` pairs "
        "separated by commas (`condenser=standard,prompt=long`). Each is the key of a "
        "multivariate PostHog flag, evaluated for the conversation's owner when it starts; "
        "the variant is kept with the conversation for good. A person the flag gives no "
        "variant (flags unavailable, the flag off or unknown) gets the default.",
        experiments,
        default=(),
    )

    @property
    def enabled(self) -> bool:
        return self.posthog_key is not None

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        if self.posthog_secret_key is not None and self.posthog_key is None:
            return {"MAESTRIST_POSTHOG_SECRET_KEY": "needs MAESTRIST_POSTHOG_KEY"}
        return {}
