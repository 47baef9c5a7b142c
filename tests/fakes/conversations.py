"""Fakes of the conversation ports over the shared ``FakeStore`` tables."""

import asyncio
import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from adapters.memory import InProcessEventFanOut, InProcessIngestLeases
from adapters.sqlalchemy.conversation_repository import decode_cursor, encode_cursor
from application.ports.conversation_repository import (
    ConversationFilter,
    ConversationPage,
    ConversationRepository,
)
from application.ports.event_callback_store import EventCallbackStore
from application.ports.event_store import EventStore
from domain.billing.holds import BillingHold
from domain.conversations.entities import (
    Conversation,
    ConversationStatus,
    ConversationTitle,
    EventCallback,
    StoredEvent,
    Tenant,
)
from domain.conversations.errors import StaleFenceError
from domain.conversations.value_objects import SERVER_SOURCE, ConversationId, RuntimeEvent
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from tests.fakes.store import EventLog, FakeStore

__all__ = (
    "FakeConversationRepository",
    "FakeEventCallbackStore",
    "FakeEventFanOut",
    "FakeEventStore",
    "FakeIngestLeases",
)

FakeIngestLeases = InProcessIngestLeases
"""The in-process adapter has no I/O: it is its own fake."""

FakeEventFanOut = InProcessEventFanOut
"""The in-process adapter has no I/O: it is its own fake."""


class FakeConversationRepository(ConversationRepository):
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._admitting: dict[OrgId, asyncio.Lock] = {}

    async def lock_admissions(self, org_id: OrgId) -> None:
        if org_id in self._admitting:
            return
        lock = self._store.admission_locks.setdefault(org_id, asyncio.Lock())
        waits, root = int(lock.locked()), self._store.root
        root.lock_waiters += waits
        try:
            await lock.acquire()
        finally:
            root.lock_waiters -= waits
        self._admitting[org_id] = lock

    def end_transaction(self) -> None:
        """Release what ``lock_admissions`` holds: its unit of work committed or rolled back."""
        for lock in self._admitting.values():
            lock.release()
        self._admitting.clear()

    @property
    def _rows(self) -> dict[ConversationId, Conversation]:
        return self._store.live.conversations

    async def add(self, conversation: Conversation) -> None:
        self._rows[conversation.id_] = copy.deepcopy(conversation)

    async def get(self, tenant: Tenant, conversation_id: ConversationId) -> Conversation | None:
        found = self._rows.get(conversation_id)
        return copy.deepcopy(found) if found is not None and found.tenant == tenant else None

    async def get_for_owner(self, conversation_id: ConversationId) -> Conversation | None:
        found = self._rows.get(conversation_id)
        return None if found is None else copy.deepcopy(found)

    async def billing_held(self, org_id: OrgId, hold: BillingHold) -> list[Conversation]:
        return [
            copy.deepcopy(c)
            for _, c in sorted(self._rows.items())
            if c.tenant.org_id == org_id and c.billing_hold is hold
        ]

    async def search(
        self,
        tenant: Tenant,
        criteria: ConversationFilter,
        *,
        cursor: str | None = None,
        limit: int = 20,
    ) -> ConversationPage:
        start = decode_cursor(cursor) if cursor is not None else None
        needle = (criteria.title_contains or "").lower()
        found = sorted(
            (
                c
                for c in self._rows.values()
                if c.tenant == tenant
                and (not criteria.statuses or c.status in criteria.statuses)
                and (
                    criteria.repository is None
                    or (c.repository is not None and c.repository.value == criteria.repository)
                )
                and (not needle or (c.title is not None and needle in c.title.value.lower()))
                and (criteria.parent_id is None or c.parent_id == criteria.parent_id)
                and (not criteria.triggers or c.trigger in criteria.triggers)
                and (start is None or c.id_ < start)
            ),
            key=lambda c: c.id_,
            reverse=True,
        )
        items = [copy.deepcopy(c) for c in found[:limit]]
        more = len(found) > limit
        return ConversationPage(
            items=items, next_cursor=encode_cursor(items[-1].id_) if more and items else None
        )

    async def save(self, conversation: Conversation) -> None:
        found = self._rows.get(conversation.id_)
        if found is not None:
            self._rows[conversation.id_] = replace(copy.deepcopy(conversation), title=found.title)

    async def rename(
        self, tenant: Tenant, conversation_id: ConversationId, title: ConversationTitle
    ) -> bool:
        found = self._rows.get(conversation_id)
        if found is None or found.tenant != tenant:
            return False
        found.title = title
        return True

    async def delete(self, tenant: Tenant, conversation_id: ConversationId) -> bool:
        found = self._rows.get(conversation_id)
        if found is None or found.tenant != tenant:
            return False
        del self._rows[conversation_id]
        for child in self._rows.values():
            if child.parent_id == conversation_id:
                child.parent_id = None
        self._store.live.events.pop(conversation_id, None)
        self._store.live.fences.pop(conversation_id, None)
        self._store.live.placements.pop(conversation_id, None)
        for key, callback in list(self._store.live.callbacks.items()):
            if callback.conversation_id == conversation_id:
                del self._store.live.callbacks[key]
        return True

    async def holding_runtime(
        self, org_id: OrgId, user_id: UserId | None = None
    ) -> list[Conversation]:
        return sorted(
            (
                copy.deepcopy(c)
                for c in self._rows.values()
                if c.tenant.org_id == org_id
                and (user_id is None or c.tenant.user_id == user_id)
                and c.status.holds_runtime
            ),
            key=lambda c: (c.updated_at, c.id_),
        )

    async def unfinished(self) -> list[ConversationId]:
        return sorted(c.id_ for c in self._rows.values() if not c.status.ended)

    async def count_unfinished(self) -> dict[ConversationStatus, int]:
        return dict(Counter(c.status for c in self._rows.values() if not c.status.ended))


class FakeEventStore(EventStore):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def append(
        self, conversation_id: ConversationId, events: Sequence[RuntimeEvent], *, fence: int | None
    ) -> list[StoredEvent]:
        tables = self._store.live
        if conversation_id not in tables.conversations:
            raise LookupError(f"no conversation {conversation_id}")
        seen = tables.fences.get(conversation_id, 0)
        if fence is not None and fence < seen:
            raise StaleFenceError
        tables.fences[conversation_id] = seen if fence is None else fence
        log = tables.events.setdefault(conversation_id, EventLog())
        known = {event.event_id for event in log}
        stored: list[StoredEvent] = []
        for event in events:
            if event.event_id in known:
                continue
            known.add(event.event_id)
            stored.append(
                StoredEvent(
                    conversation_id=conversation_id,
                    seq=len(log) + len(stored) + 1,
                    event_id=event.event_id,
                    kind=event.kind,
                    source=event.source,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    payload=event.payload,
                )
            )
        log.extend(stored)
        return stored

    async def list_after(
        self, conversation_id: ConversationId, after: int = 0, limit: int = 100
    ) -> list[StoredEvent]:
        log = self._store.live.events.get(conversation_id, EventLog())
        return [event for event in log if event.seq > after][:limit]

    async def last(self, conversation_id: ConversationId) -> StoredEvent | None:
        log = self._store.live.events.get(conversation_id, EventLog())
        return next((e for e in reversed(log) if e.source != SERVER_SOURCE), None)


class FakeEventCallbackStore(EventCallbackStore):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, callback: EventCallback) -> None:
        self._store.live.callbacks[callback.id_] = copy.deepcopy(callback)

    async def active_for(self, conversation_id: ConversationId) -> list[EventCallback]:
        return [
            copy.deepcopy(callback)
            for key, callback in sorted(self._store.live.callbacks.items())
            if callback.conversation_id == conversation_id and callback.status.value == "active"
        ]

    async def save(self, callback: EventCallback) -> None:
        if callback.id_ in self._store.live.callbacks:
            self._store.live.callbacks[callback.id_] = copy.deepcopy(callback)
