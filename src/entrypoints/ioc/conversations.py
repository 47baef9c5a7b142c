from collections.abc import AsyncIterator

from dishka import AsyncContainer, Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy import (
    SqlaConversationRepository,
    SqlaEventCallbackStore,
    SqlaEventStore,
    SqlaUnitsOfWork,
)
from application.conversations import (
    CallbackProcessors,
    CheckConversationAccess,
    ConcurrencyGate,
    ConversationDefaults,
    ConversationFeed,
    ConversationIngest,
    ConversationLimits,
    DeleteConversation,
    GetConversation,
    ListEvents,
    PauseConversation,
    RenameConversation,
    RespondToConfirmation,
    ResumeConversation,
    SearchConversations,
    SendMessage,
    StartConversation,
    StopConversation,
)
from application.conversations.git_access import RuntimeGitAccess
from application.ports.cipher import Cipher
from application.ports.clock import Clock
from application.ports.conversation_repository import ConversationRepository
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.event_callback_store import EventCallbackStore
from application.ports.event_fan_out import EventFanOut
from application.ports.event_store import EventStore
from application.ports.ingest_leases import IngestLeases
from application.ports.unit_of_work import UnitsOfWork
from entrypoints.http.conversations import OpenSockets, SocketPolicy
from entrypoints.settings import RuntimeKind, Settings

__all__ = (
    "ConversationsProvider",
    "ProductionServerProvider",
    "close_sockets",
    "start_conversation_ingest",
)


class ConversationsProvider(Provider):
    """Conversations, their events and callbacks in the database; the ingest, which outlives
    requests and stops with the server. The binding's own provider supplies the
    ``IngestLeases`` and the ``EventFanOut`` (in-process embedded, Redis clustered)."""

    conversations = provide(
        SqlaConversationRepository, provides=ConversationRepository, scope=Scope.REQUEST
    )
    events = provide(SqlaEventStore, provides=EventStore, scope=Scope.REQUEST)
    callbacks = provide(SqlaEventCallbackStore, provides=EventCallbackStore, scope=Scope.REQUEST)

    @provide(scope=Scope.APP)
    def units_of_work(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Cipher
    ) -> UnitsOfWork:
        return SqlaUnitsOfWork(sessions, cipher)

    @provide(scope=Scope.APP)
    def processors(self) -> CallbackProcessors:
        return CallbackProcessors()

    @provide(scope=Scope.APP)
    async def ingest(
        self,
        runtime: ConversationRuntime,
        leases: IngestLeases,
        fan_out: EventFanOut,
        store: UnitsOfWork,
        clock: Clock,
        processors: CallbackProcessors,
    ) -> AsyncIterator[ConversationIngest]:
        ingest = ConversationIngest(runtime, leases, fan_out, store, clock, processors)
        yield ingest
        await ingest.aclose()

    feed = provide(ConversationFeed, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def limits(self, settings: Settings) -> ConversationLimits:
        return ConversationLimits(
            per_user=settings.conversation_limit_per_user,
            per_org=settings.conversation_limit_per_org,
            policy=settings.conversation_limit_policy,
        )

    @provide(scope=Scope.APP)
    def defaults(self, settings: Settings) -> ConversationDefaults:
        root = (
            "/workspace/conversations"
            if settings.runtime is RuntimeKind.EXTERNAL
            else str(settings.data_dir.absolute() / "workspaces")
        )
        return ConversationDefaults(
            workspace_root=root,
            git_token_url=f"{settings.effective_public_url}/api/runtime/git-token",
        )

    @provide(scope=Scope.APP)
    def socket_policy(self, settings: Settings) -> SocketPolicy:
        return SocketPolicy(
            allowed_origins=frozenset({settings.effective_public_url, *settings.cors_origins})
        )

    @provide(scope=Scope.APP)
    def open_sockets(self, settings: Settings) -> OpenSockets:
        return OpenSockets(close_timeout_s=settings.shutdown_timeout_s / 2)

    gate = provide(ConcurrencyGate, scope=Scope.REQUEST)
    git_access = provide(RuntimeGitAccess, scope=Scope.APP)
    start = provide(StartConversation, scope=Scope.REQUEST)
    search = provide(SearchConversations, scope=Scope.REQUEST)
    get = provide(GetConversation, scope=Scope.REQUEST)
    rename = provide(RenameConversation, scope=Scope.REQUEST)
    delete = provide(DeleteConversation, scope=Scope.REQUEST)
    send_message = provide(SendMessage, scope=Scope.REQUEST)
    pause = provide(PauseConversation, scope=Scope.REQUEST)
    resume = provide(ResumeConversation, scope=Scope.REQUEST)
    stop = provide(StopConversation, scope=Scope.REQUEST)
    respond = provide(RespondToConfirmation, scope=Scope.REQUEST)
    list_events = provide(ListEvents, scope=Scope.REQUEST)
    check_access = provide(CheckConversationAccess, scope=Scope.REQUEST)


async def start_conversation_ingest(container: AsyncContainer) -> None:
    """Follow again, in the background, every conversation a previous run of the server left
    unfinished."""
    (await container.get(ConversationIngest)).follow_unfinished_soon()


class ProductionServerProvider(Provider):
    """What differs under ``maestrist serve``: it drops open connections as soon as it is
    told to stop, so the stop signals wait for the sockets to close with 1001 first."""

    @provide(scope=Scope.APP, override=True)
    def open_sockets(self, settings: Settings) -> OpenSockets:
        return OpenSockets(hold_stop_signals=True, close_timeout_s=settings.shutdown_timeout_s / 2)


async def close_sockets(container: AsyncContainer) -> None:
    """Close every open socket with 1001 (going away), before the server's connections go."""
    await (await container.get(OpenSockets)).close_all()
