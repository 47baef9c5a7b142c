import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.git_provider import ProviderOAuth, RefreshedToken
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost


class FakeProviderOAuth(ProviderOAuth):
    """A provider's token endpoint in memory, counting its calls.

    Each refresh token works once and is replaced (rotation, as GitLab and Bitbucket do);
    ``refuse`` makes every refresh a refused one, ``down`` an outage, and ``delay`` holds each
    call that long first, so concurrent refreshes would overlap. ``hosts`` lists the hosts it
    holds OAuth app credentials for (all of them when None).
    """

    def __init__(
        self,
        clock: Clock,
        *,
        lifetime: timedelta = timedelta(hours=8),
        hosts: set[GitHost] | None = None,
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._hosts = hosts
        self.valid_refresh_tokens: set[str] = set()
        self.calls: list[tuple[GitHost, str]] = []
        self.refuse = False
        self.down = False
        self.delay = 0.0
        self.on_call: Callable[[], None] | None = None
        self._issued = 0

    def issue(self, refresh_token: str) -> str:
        """Make ``refresh_token`` one the endpoint will accept once."""
        self.valid_refresh_tokens.add(refresh_token)
        return refresh_token

    def can_refresh(self, host: GitHost) -> bool:
        return self._hosts is None or host in self._hosts

    async def refresh(self, host: GitHost, refresh_token: str) -> RefreshedToken:
        self.calls.append((host, refresh_token))
        if self.on_call is not None:
            self.on_call()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise DependencyUnavailableError(f"{host.kind.value} did not answer.")
        if self.refuse or refresh_token not in self.valid_refresh_tokens:
            raise ProviderReconnectRequiredError(host.kind, "the refresh token was refused")
        self.valid_refresh_tokens.discard(refresh_token)
        self._issued += 1
        now: datetime = self._clock.now()
        return RefreshedToken(
            access_token=f"access-{self._issued}",
            refresh_token=self.issue(f"refresh-{self._issued}"),
            expires_at=now + self._lifetime,
            refresh_expires_at=now + timedelta(days=180),
            scopes="repo",
        )
