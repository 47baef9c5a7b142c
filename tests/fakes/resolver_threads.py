import copy

from application.ports.resolver_threads import ResolverThreadStore
from domain.conversations.value_objects import ConversationId
from domain.git.providers import ProviderKind
from domain.resolver.entities import ResolverThread
from domain.resolver.triggers import ThreadRef
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeResolverThreadStore",)


def _key(ref: ThreadRef) -> tuple[ProviderKind, str, int]:
    return ref.provider, ref.repository.lower(), ref.number


class FakeResolverThreadStore(ResolverThreadStore):
    """Threads over the ``FakeStore``; one issue another open transaction added is waited
    for, as the primary key makes SQL wait."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    @property
    def _rows(self) -> dict[tuple[ProviderKind, str, int], ResolverThread]:
        return self._store.live.resolver_threads

    async def add(self, thread: ResolverThread) -> bool:
        key = _key(thread.thread)
        await self._locks.hold(("resolver-thread", key))
        if key in self._rows:
            return False
        self._rows[key] = copy.deepcopy(thread)
        return True

    async def save(self, thread: ResolverThread) -> None:
        key = _key(thread.thread)
        kept = self._rows.get(key)
        if kept is None:
            return
        kept.last_trigger = thread.last_trigger
        kept.acknowledged = thread.acknowledged
        kept.summaries_posted = thread.summaries_posted
        kept.pull_requests = thread.pull_requests
        kept.updated_at = thread.updated_at

    async def get(self, ref: ThreadRef) -> ResolverThread | None:
        kept = self._rows.get(_key(ref))
        return None if kept is None else copy.deepcopy(kept)

    async def list_for_repository(
        self, provider: ProviderKind, repository: str
    ) -> list[ResolverThread]:
        found = [
            t
            for (kind, name, _), t in self._rows.items()
            if kind is provider and name == repository.lower()
        ]
        ordered = sorted(found, key=lambda t: (t.created_at, t.thread.number))
        return [copy.deepcopy(t) for t in ordered]

    async def for_conversation(self, conversation_id: ConversationId) -> ResolverThread | None:
        found = next((t for t in self._rows.values() if t.conversation_id == conversation_id), None)
        return None if found is None else copy.deepcopy(found)

    async def delete(self, ref: ThreadRef) -> bool:
        return self._rows.pop(_key(ref), None) is not None
