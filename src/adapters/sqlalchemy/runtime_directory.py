from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import ConversationPlacementRow, RuntimeHostRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.runtime_directory import RuntimeAddress, RuntimeDirectory
from domain.conversations.value_objects import ConversationId

__all__ = ("SqlaRuntimeDirectory", "runtime_host_context")


def runtime_host_context(node: str, name: str) -> str:
    """What an agent-server's sealed session key is bound to: its node and its name."""
    return f"runtime-host:{node}:{name}:session_key"


class SqlaRuntimeDirectory(RuntimeDirectory):
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    def _upsert(self, row: type[Any], keys: list[str], **values: object) -> Any:
        statement = dialect_insert(self._session, row).values(**values)
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in values if name not in keys},
        )

    async def announce(self, address: RuntimeAddress, at: datetime) -> None:
        sealed = self._cipher.encrypt(
            address.session_key, context=runtime_host_context(address.node, address.name)
        )
        statement = self._upsert(
            RuntimeHostRow,
            ["node", "name"],
            node=address.node,
            name=address.name,
            url=address.url,
            session_key=sealed,
            updated_at=at,
        )
        async with translate_db_errors():
            await self._session.execute(statement)

    async def place(self, conversation_id: ConversationId, node: str, name: str) -> None:
        statement = self._upsert(
            ConversationPlacementRow,
            ["conversation_id"],
            conversation_id=conversation_id,
            node=node,
            name=name,
        )
        async with translate_db_errors():
            await self._session.execute(statement)

    async def locate(self, conversation_id: ConversationId) -> RuntimeAddress | None:
        placement, host = ConversationPlacementRow, RuntimeHostRow
        query = (
            select(host.node, host.name, host.url, host.session_key)
            .join(placement, (placement.node == host.node) & (placement.name == host.name))
            .where(placement.conversation_id == conversation_id)
        )
        async with translate_db_errors():
            row = (await self._session.execute(query)).first()
        if row is None:
            return None
        try:
            key = self._cipher.decrypt(
                row.session_key, context=runtime_host_context(row.node, row.name)
            )
        except CipherError as exc:
            raise DependencyUnavailableError(UNOPENABLE) from exc
        return RuntimeAddress(node=row.node, name=row.name, url=row.url, session_key=key)
