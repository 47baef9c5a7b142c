from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.conversations.value_objects import ConversationId

__all__ = ("RuntimeAddress", "RuntimeDirectory")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeAddress:
    """Where an agent-server a node runs answers its peers, and the key it wants. ``node``
    names the node (a machine's data directory) and ``name`` the agent-server on it (a
    sandbox's name, or ``shared``)."""

    node: str
    name: str
    url: str
    session_key: str

    def __repr__(self) -> str:  # the key never shows in a log
        return f"RuntimeAddress(node={self.node!r}, name={self.name!r}, url={self.url!r})"


class RuntimeDirectory(Protocol):
    """Where every conversation's agent-server lives, for every server of the installation,
    so one on another node can follow and drive a conversation whose server died. The session
    keys are sealed at rest. Transactional: the unit of work commits."""

    @abstractmethod
    async def announce(self, address: RuntimeAddress, at: datetime) -> None:
        """Record where the agent-server ``address`` names answers now (it moves when it
        starts again)."""

    @abstractmethod
    async def place(self, conversation_id: ConversationId, node: str, name: str) -> None:
        """Record that the conversation runs on agent-server ``name`` of ``node``."""

    @abstractmethod
    async def locate(self, conversation_id: ConversationId) -> RuntimeAddress | None:
        """Where the conversation's agent-server answers; None when it was not placed, or
        its agent-server was never announced."""
