"""The clustered binding's PostgreSQL database (the embedded one keeps SQLite in its data
directory)."""

from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in, url

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
