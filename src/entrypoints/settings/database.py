"""The clustered binding's PostgreSQL database (the embedded one keeps SQLite in its data
directory)."""

from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in, seconds, url

__all__ = ("DatabaseSettings",)


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings(Section):
    """PostgreSQL, through asyncpg."""

    url: str | None = setting(
        "MAESTRIST_DATABASE_URL",
        "Clustered only, required there: `postgresql+asyncpg://user:password@host:port/db`.",
        url("postgresql+asyncpg", "postgresql", "postgres"),
        default=None,
        secret=True,
    )
    pool_size: int = setting(
        "MAESTRIST_DB_POOL_SIZE",
        "PostgreSQL connections kept per worker (as many again may overflow).",
        int_in(1, 200),
        default=10,
    )
    pool_timeout_s: float = setting(
        "MAESTRIST_DB_POOL_TIMEOUT",
        "Seconds a request waits its turn for a PostgreSQL connection while every one is busy, "
        "before it is answered 503 with `Retry-After`. Opening a connection is bounded by "
        "`MAESTRIST_DEPENDENCY_TIMEOUT` instead.",
        seconds,
        default=30.0,
    )

    def problems(self, binding: Binding) -> dict[str, str]:
        if binding is Binding.EMBEDDED:
            if self.url is None:
                return {}
            return {
                "MAESTRIST_DATABASE_URL": "only the clustered binding uses it; set "
                "MAESTRIST_BINDING"
            }
        if self.url is None:
            return {"MAESTRIST_DATABASE_URL": "required when MAESTRIST_BINDING=clustered"}
        if not self.url.startswith("postgresql+asyncpg://"):
            return {"MAESTRIST_DATABASE_URL": "must start with postgresql+asyncpg://"}
        return {}
