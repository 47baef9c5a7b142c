from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, replace

from application.conversations.access_check import ConversationAccess, ConversationAccessCheck
from application.conversations.feed import ConversationFeed
from application.conversations.ingest import ConversationIngest
from application.conversations.message_delivery import MessageDelivery
from application.errors import ApplicationError, MissingScopeError
from application.ports.access_revocations import (
    AccessRevocations,
    ApiKeyRevoked,
    MembershipChanged,
    Revocation,
    RevocationsMissed,
    RevocationSubscription,
    SessionRevoked,
    UserChanged,
)
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import ConversationId
from domain.identity.principals import Credentials, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from domain.shared.errors import DomainError

__all__ = (
    "ConversationStream",
    "OpenConversationStream",
    "OpenConversationStreamRequest",
    "OpenConversationStreamResult",
    "StreamAccessLostError",
    "StreamTurn",
    "StreamTurns",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamTurn:
    """What one turn of a stream acts with: a unit of work of its own, and the access check
    and message delivery working in it."""

    uow: UnitOfWork
    access: ConversationAccessCheck
    delivery: MessageDelivery


class StreamTurns:
    """Opens a stream's turns, each as a request of its own (the composition root says how),
    so a stream that lasts hours never holds a transaction or a credential check for long."""

    def __init__(self, begin: Callable[[], AbstractAsyncContextManager[StreamTurn]]) -> None:
        self._begin = begin

    def begin(self) -> AbstractAsyncContextManager[StreamTurn]:
        return self._begin()


class StreamAccessLostError(Exception):
    """The stream's credential no longer reaches its conversation; ``cause`` says why."""

    def __init__(self, cause: DomainError | ApplicationError) -> None:
        super().__init__(cause.message)
        self.cause = cause


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenConversationStreamRequest:
    credentials: Credentials
    requested_org: OrgId | None
    conversation_id: ConversationId


class ConversationStream:
    """One client's view of a conversation while its credential reaches it: the events, the
    revocations that may end it, and messages to the agent. Watching needs the scope
    ``conversations:read``, sending ``conversations:write``; access is checked again from
    scratch before each message and on each ``recheck``. Close it with ``aclose``."""

    def __init__(
        self,
        request: OpenConversationStreamRequest,
        access: ConversationAccess,
        *,
        turns: StreamTurns,
        feed: ConversationFeed,
        ingest: ConversationIngest,
        revocations: RevocationSubscription,
        closing: AsyncExitStack,
    ) -> None:
        self._request = request
        self._access = access
        self._turns = turns
        self._feed = feed
        self._ingest = ingest
        self._revocations = revocations
        self._closing = closing

    @property
    def conversation_id(self) -> ConversationId:
        return self._request.conversation_id

    @property
    def actor(self) -> Principal:
        """Who the stream's credential proved, when it was last checked."""
        return self._access.actor

    def events(self, *, after: int, buffer: int) -> AsyncIterator[StoredEvent]:
        """The stored events numbered above ``after``, then live ones, each once and in order;
        raises ``SubscriberTooSlowError`` when the reader falls ``buffer`` events behind."""
        return self._feed.events(self.conversation_id, after=after, buffer=buffer)

    def concerns(self, revocation: Revocation) -> bool:
        """Whether ``revocation`` may end this stream's access."""
        actor, org_id = self._access.actor, self._access.org.organization.id_
        match revocation:
            case ApiKeyRevoked(key_id):
                return actor.credential_id == key_id
            case SessionRevoked(session_id):
                return actor.credential_id == session_id
            case MembershipChanged(user_id, changed_org):
                return actor.user.id_ == user_id and changed_org == org_id
            case UserChanged():
                return False  # an account's email or profile grants no conversation
            case RevocationsMissed():
                return True

    async def revocations(self) -> AsyncIterator[Revocation]:
        """Revocations announced since the stream opened that may end its access."""
        async for revocation in self._revocations:
            if self.concerns(revocation):
                yield revocation

    async def recheck(self, *, routine: bool = False) -> None:
        """Raises ``StreamAccessLostError`` when the credential no longer reaches the
        conversation. A ``routine`` check (a heartbeat, no revocation heard) may reuse what
        the credential proved a few seconds ago, as a read request does: that is dropped on
        every server as soon as a revocation is announced, and never trusted while
        announcements are not heard, so hundreds of sockets of one credential cost one read."""
        async with self._turns.begin() as turn:
            await self._checked(turn, reuse_recent=routine)

    async def send(self, text: str | None, images: Sequence[str] = ()) -> None:
        """Send the agent a message, as ``SendMessage`` does. Raises
        ``StreamAccessLostError`` when the credential no longer reaches the conversation; a
        message refused (no write scope, bad input, the limits) raises its own error."""
        async with self._turns.begin() as turn:
            access = await self._checked(turn)
            if Scope.CONVERSATIONS_WRITE not in access.actor.scopes:
                raise MissingScopeError("Sending messages needs the scope conversations:write.")
            prepared = await turn.delivery.prepare(
                access.actor, access.org, self.conversation_id, text, images
            )
            await turn.uow.commit()
            self._ingest.follow(self.conversation_id)
            await turn.delivery.deliver(prepared)

    async def aclose(self) -> None:
        await self._closing.aclose()

    async def _checked(self, turn: StreamTurn, *, reuse_recent: bool = False) -> ConversationAccess:
        """The access the credential has now, read again (unless ``reuse_recent``, never what
        it proved moments ago: a re-check follows a revocation, and a message changes
        something)."""
        credentials = replace(self._request.credentials, reuse_recent=reuse_recent)
        try:
            self._access = await turn.access.check(
                credentials,
                self._request.requested_org,
                self.conversation_id,
                Scope.CONVERSATIONS_READ,
            )
        except (DomainError, ApplicationError) as lost:
            raise StreamAccessLostError(lost) from lost
        return self._access


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenConversationStreamResult:
    stream: ConversationStream


class OpenConversationStream:
    """Open a live view of a conversation for a client that stays connected (the websocket):
    for credentials with the scope ``conversations:read`` of the conversation's owner, in the
    organization they act in. Refuses with the error of the check that failed
    (``NotAuthenticatedError``, ``MissingScopeError``, ``OrgNotFoundError``,
    ``ConversationNotFoundError``).

    It listens for revocations before it checks, so none slips in between, and follows the
    conversation's events on this server. What it hands back checks access again from
    scratch whenever it acts (``ConversationStream``)."""

    def __init__(
        self,
        turns: StreamTurns,
        feed: ConversationFeed,
        ingest: ConversationIngest,
        revocations: AccessRevocations,
    ) -> None:
        self._turns = turns
        self._feed = feed
        self._ingest = ingest
        self._revocations = revocations

    async def execute(self, request: OpenConversationStreamRequest) -> OpenConversationStreamResult:
        closing = AsyncExitStack()
        try:
            revoked = await closing.enter_async_context(self._revocations.subscribe())
            async with self._turns.begin() as turn:
                access = await turn.access.check(
                    request.credentials,
                    request.requested_org,
                    request.conversation_id,
                    Scope.CONVERSATIONS_READ,
                )
        except BaseException:
            await closing.aclose()
            raise
        self._ingest.follow(request.conversation_id)
        stream = ConversationStream(
            request,
            access,
            turns=self._turns,
            feed=self._feed,
            ingest=self._ingest,
            revocations=revoked,
            closing=closing,
        )
        return OpenConversationStreamResult(stream=stream)
