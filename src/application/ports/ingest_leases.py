from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from application.errors import ApplicationError
from domain.conversations.value_objects import ConversationId

__all__ = ("IngestLeases", "Lease", "LeaseLostError")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """Ownership of one conversation's runtime event stream. ``fence`` grows with every new
    owner; the event store refuses appends carrying an older one."""

    conversation_id: ConversationId
    fence: int
    owner: str


class LeaseLostError(ApplicationError):
    code = "lease-lost"
    default_message = "This server no longer owns the conversation's event stream."


class IngestLeases(Protocol):
    """Who owns each conversation's event ingest.

    Exactly one owner at a time reads a conversation's runtime events: ``acquire`` answers a
    lease, or None while another owner holds one. A clustered adapter keeps leases with a time
    to live that ``ensure_current`` renews, and takes over those whose owner died, handing out
    a greater fence; the event store's fence check then stops a stale owner's appends.

    A lease ends either finished (the conversation needs no reader now) or orphaned (its owner
    stopped, died or was cut off before the conversation ended); ``orphans`` lists the
    orphaned ones, as soon as they are, so a live server takes them over without waiting for
    anyone to ask.
    """

    @abstractmethod
    async def acquire(self, conversation_id: ConversationId) -> Lease | None:
        """A lease, with a fence greater than every earlier one; None while another owner
        holds one. An adapter that names its owners after their place (a host and port) hands
        a lease still held under this owner's name by an earlier run of it to this one."""

    @abstractmethod
    async def ensure_current(self, lease: Lease) -> None:
        """Renew the lease; raises ``LeaseLostError`` when it is no longer this owner's."""

    @abstractmethod
    def still_held(self, lease: Lease) -> bool:
        """Whether the lease was this owner's when last renewed (no I/O): False once a renewal
        found it lost; ``ensure_current`` is the check that asks."""

    @abstractmethod
    async def release(self, lease: Lease, *, finished: bool) -> None:
        """Give the stream up (a no-op for a lease already lost): ``finished`` when nothing is
        left to read for now, otherwise the conversation is an orphan at once."""

    @abstractmethod
    async def orphans(self, limit: int) -> Sequence[ConversationId]:
        """At most ``limit`` conversations whose lease ended unfinished (released so, or
        expired with its owner), longest orphaned first. One may have been taken over since:
        ``acquire`` says."""
