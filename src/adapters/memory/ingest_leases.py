import itertools
import uuid
from collections.abc import Sequence

from application.ports.ingest_leases import IngestLeases, Lease, LeaseLostError
from domain.conversations.value_objects import ConversationId

__all__ = ("InProcessIngestLeases",)


class InProcessIngestLeases(IngestLeases):
    """One process owns every conversation's ingest: leases are a dict, fences a counter, and
    orphans those released unfinished, in the order they were."""

    def __init__(self) -> None:
        self._owner = uuid.uuid4().hex
        self._fences = itertools.count(1)
        self._leases: dict[ConversationId, Lease] = {}
        self._orphans: dict[ConversationId, None] = {}

    async def acquire(self, conversation_id: ConversationId) -> Lease | None:
        if conversation_id in self._leases:
            return None
        lease = Lease(conversation_id=conversation_id, fence=next(self._fences), owner=self._owner)
        self._leases[conversation_id] = lease
        self._orphans.pop(conversation_id, None)
        return lease

    def seize(self, conversation_id: ConversationId, owner: str) -> Lease:
        """Take the stream over whoever holds it, as a clustered adapter does when an owner's
        lease expires."""
        lease = Lease(conversation_id=conversation_id, fence=next(self._fences), owner=owner)
        self._leases[conversation_id] = lease
        return lease

    async def ensure_current(self, lease: Lease) -> None:
        if self._leases.get(lease.conversation_id) != lease:
            raise LeaseLostError

    def still_held(self, lease: Lease) -> bool:
        return self._leases.get(lease.conversation_id) == lease

    async def release(self, lease: Lease, *, finished: bool) -> None:
        if self._leases.get(lease.conversation_id) == lease:
            del self._leases[lease.conversation_id]
            if not finished:
                self._orphans[lease.conversation_id] = None

    async def orphans(self, limit: int) -> Sequence[ConversationId]:
        return list(itertools.islice(self._orphans, max(limit, 0)))
