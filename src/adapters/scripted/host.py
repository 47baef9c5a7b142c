from application.ports.conversation_runtime import RuntimeHost
from domain.conversations.value_objects import HostHealth, HostInfo

__all__ = ("ScriptedHost",)


class ScriptedHost(RuntimeHost):
    """The scripted runtime's host: this process, always up."""

    def __init__(self, session_key: str = "scripted") -> None:
        self._info = HostInfo(base_url="scripted://in-process", session_key=session_key)

    async def ensure_running(self) -> HostInfo:
        return self._info

    async def health(self) -> HostHealth:
        return HostHealth.UP

    async def stop(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
