"""The clustered binding's Redis: coordination between instances and pub/sub of events."""

from dataclasses import dataclass

from entrypoints.settings.fields import Binding, Section, setting
from entrypoints.settings.parsers import int_in, printable, url

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
        "(2-600), renewed every third of it while the server lives. Every server looks for "
        "claims run out six times in this time, so a conversation whose server died is taken "
        "over within about 1.2 times it; one whose server stopped is taken over at once.",
        int_in(2, 600),
        default=3,
    )
    node_id: str | None = setting(
        "MAESTRIST_NODE_ID",
        "Clustered: this server's name in its claims on conversations, followed by its worker's "
        "number. A server restarted under the same name takes its conversations back at once. "
        "Unset: the host name and `MAESTRIST_PORT`. Give each server its own.",
        printable(200),
        default=None,
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
