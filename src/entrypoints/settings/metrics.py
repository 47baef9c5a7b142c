"""The Prometheus endpoint: off until a token is set for the scraper."""

from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in

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
    worker_port: int | None = setting(
        "MAESTRIST_WORKER_METRICS_PORT",
        "TCP port (1-65535) a `maestrist worker` process answers `GET /metrics` on, at "
        "`MAESTRIST_HOST`, with the same token: its job counts. Needs `MAESTRIST_METRICS_TOKEN`. "
        "Unset: a worker process has no endpoint.",
        int_in(1, 65535),
        default=None,
    )

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def problems(self, binding: Binding) -> dict[str, str]:
        del binding
        if self.worker_port is not None and self.token is None:
            return {"MAESTRIST_WORKER_METRICS_PORT": "needs MAESTRIST_METRICS_TOKEN"}
        return {}
