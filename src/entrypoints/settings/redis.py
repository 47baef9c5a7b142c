"""The clustered binding's Redis: coordination between instances and pub/sub of events."""

from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in, url

__all__ = ("RedisSettings",)


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisSettings(Section):
    """Redis, and how long an instance's claims in it outlive the instance."""

    url: str | None = setting(
        "MAESTRIST_REDIS_URL",
        "Clustered only, required there: `redis://[:password@]host:port/db` (or `rediss://`).",
        url("redis", "rediss"),
        default=None,
        secret=True,
    )
    max_connections: int = setting(
        "MAESTRIST_REDIS_MAX_CONNECTIONS",
        "Redis connections per worker at most.",
        int_in(1, 10_000),
        default=50,
    )
    conversation_lease_ttl_s: int = setting(
        "MAESTRIST_CONVERSATION_LEASE_TTL",
        "Clustered: seconds a server's claim on a conversation's events outlives the server "
        "(3-600), renewed every third of it while the server lives: a conversation whose "
        "server died can be taken over by another one this long after.",
        int_in(3, 600),
        default=30,
    )

    def problems(self, binding: Binding) -> dict[str, str]:
        if binding is Binding.EMBEDDED:
            if self.url is None:
                return {}
            return {
                "MAESTRIST_REDIS_URL": "only the clustered binding uses it; set MAESTRIST_BINDING"
            }
        if self.url is None:
            return {"MAESTRIST_REDIS_URL": "required when MAESTRIST_BINDING=clustered"}
        return {}
