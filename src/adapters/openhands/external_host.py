import httpx

from application.ports.conversation_runtime import RuntimeHost
from domain.conversations.value_objects import HostHealth, HostInfo

__all__ = ("ExternalHost",)


class ExternalHost(RuntimeHost):
    """An agent-server operators run; we only know its address and session key."""

    def __init__(self, base_url: str, session_key: str) -> None:
        self._info = HostInfo(base_url=base_url.rstrip("/"), session_key=session_key)

    async def ensure_running(self) -> HostInfo:
        return self._info

    async def health(self) -> HostHealth:
        return await probe_ready(self._info.base_url)

    async def stop(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def probe_ready(base_url: str, *, timeout_s: float = 3.0) -> HostHealth:
    """``/ready`` of an agent-server: up, still starting, or down."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(f"{base_url}/ready")
    except httpx.HTTPError:
        return HostHealth.DOWN
    if response.status_code == 200:
        return HostHealth.UP
    if response.status_code == 503:
        return HostHealth.STARTING
    return HostHealth.DOWN
