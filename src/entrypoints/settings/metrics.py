"""The Prometheus endpoint: off until a token is set for the scraper."""

from dataclasses import dataclass

from entrypoints.settings.fields import Section, setting

__all__ = ("MULTIPROCESS_DIR_ENV", "MetricsSettings")

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's own variable: the directory a server's workers share their metrics in,
which ``maestrist serve`` sets for them (never set by hand)."""

MIN_TOKEN_CHARS = 16


def metrics_token(raw: str) -> str:
    if len(raw) < MIN_TOKEN_CHARS or len(raw) > 512 or not raw.isprintable() or " " in raw:
        raise ValueError(
            f"expected {MIN_TOKEN_CHARS} to 512 printable characters without spaces "
            f"(`maestrist new-key` makes one)"
        )
    return raw


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsSettings(Section):
    """Who may scrape the server's metrics."""

    token: str | None = setting(
        "MAESTRIST_METRICS_TOKEN",
        "The bearer token a Prometheus scraper sends to `/metrics` (`Authorization: Bearer "
        "...`; 16 to 512 characters, no spaces). Unset: `/metrics` does not exist (404).",
        metrics_token,
        default=None,
        secret=True,
    )

    @property
    def enabled(self) -> bool:
        return self.token is not None
