from datetime import datetime

from application.ports.runtime_directory import RuntimeAddress, RuntimeDirectory
from domain.conversations.value_objects import ConversationId
from tests.fakes.store import FakeStore

__all__ = ("FakeRuntimeDirectory",)


class FakeRuntimeDirectory(RuntimeDirectory):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def announce(self, address: RuntimeAddress, at: datetime) -> None:
        self._store.live.runtime_hosts[(address.node, address.name)] = address

    async def place(self, conversation_id: ConversationId, node: str, name: str) -> None:
        if conversation_id not in self._store.live.conversations:
            raise LookupError(f"no conversation {conversation_id}")
        self._store.live.placements[conversation_id] = (node, name)

    async def locate(self, conversation_id: ConversationId) -> RuntimeAddress | None:
        where = self._store.live.placements.get(conversation_id)
        return None if where is None else self._store.live.runtime_hosts.get(where)
