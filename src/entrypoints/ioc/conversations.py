from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import AsyncContainer, Provider, Scope, provide

from application.analytics import ProductAnalytics
from application.billing import UsageAccounting
from application.conversations import (
    CallbackProcessors,
    ConversationAccessCheck,
    ConversationDefaults,
    ConversationFeed,
    ConversationIngest,
    ConversationLimits,
    MessageDelivery,
    StartReports,
    StartsInProgress,
    StreamTurn,
    StreamTurns,
)
from application.conversations.callbacks import (
    RecordActiveSeconds,
    ReportConversationFinished,
    SetTitleFromFirstMessage,
)
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.event_fan_out import EventFanOut
from application.ports.ingest_leases import IngestLeases
from application.ports.metrics import Metrics
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from application.resolver import ResolverReply
from entrypoints.ioc.runtime import Sandboxes, workspace_root
from entrypoints.settings import RuntimeKind, Settings

__all__ = ("ConversationsProvider", "start_conversation_ingest")


class ConversationsProvider(Provider):
    """The ingest, which outlives requests and stops with the server, the feed, the limits
    and defaults of new conversations, and a websocket stream's turns, each a request scope.
    The binding's own provider supplies the ``IngestLeases`` and the ``EventFanOut``
    (in-process embedded, Redis clustered)."""

    @provide(scope=Scope.APP)
    def processors(self, analytics: ProductAnalytics) -> CallbackProcessors:
        return CallbackProcessors(
            [
                SetTitleFromFirstMessage(),
                RecordActiveSeconds(),
                ReportConversationFinished(analytics),
                ResolverReply(),
            ]
        )

    @provide(scope=Scope.APP)
    async def ingest(
        self,
        runtime: ConversationRuntime,
        leases: IngestLeases,
        fan_out: EventFanOut,
        store: UnitsOfWork,
        clock: Clock,
        processors: CallbackProcessors,
        metrics: Metrics,
        accounting: UsageAccounting,
        settings: Settings,
    ) -> AsyncIterator[ConversationIngest]:
        ingest = ConversationIngest(
            runtime,
            leases,
            fan_out,
            store,
            clock,
            processors,
            metrics=metrics,
            accounting=accounting,
            close_timeout_s=settings.server.shutdown_timeout_s / 2,
            sweep_every_s=settings.redis.conversation_lease_ttl_s / 6,
            # a start bounds itself; past that and as long again (a minute at most), the
            # server running it is gone
            start_bound_s=settings.conversations.start_timeout_s
            + min(60.0, settings.conversations.start_timeout_s),
        )
        yield ingest
        await ingest.aclose()

    feed = provide(ConversationFeed, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def start_reports(
        self,
        store: UnitsOfWork,
        fan_out: EventFanOut,
        clock: Clock,
        metrics: Metrics,
        processors: CallbackProcessors,
        runtime: ConversationRuntime,
    ) -> StartReports:
        return StartReports(store, fan_out, clock, metrics, processors, runtime.message_text)

    @provide(scope=Scope.APP)
    async def starts_in_progress(self, settings: Settings) -> AsyncIterator[StartsInProgress]:
        """Closed before the runtime and the ingest it was made after, so a start cut short
        by the server stopping still records that."""
        starts = StartsInProgress(close_timeout_s=settings.server.shutdown_timeout_s / 4)
        yield starts
        await starts.aclose()

    @provide(scope=Scope.APP)
    def limits(self, settings: Settings) -> ConversationLimits:
        return ConversationLimits(
            per_user=settings.conversations.limit_per_user,
            per_org=settings.conversations.limit_per_org,
            policy=settings.conversations.limit_policy,
        )

    @provide(scope=Scope.APP)
    def defaults(self, settings: Settings) -> ConversationDefaults:
        return ConversationDefaults(
            workspace_root=workspace_root(settings),
            sandbox=(
                settings.runtime.sandbox.scope
                if settings.runtime.kind is RuntimeKind.LOCAL
                else None
            ),
            git_token_url=f"{settings.server.effective_public_url}/api/runtime/git-token",
            start_timeout_s=settings.conversations.start_timeout_s,
        )

    @provide(scope=Scope.SESSION)
    def stream_turns(self, container: AsyncContainer) -> StreamTurns:
        """Each turn of a websocket's stream is a request scope of its own."""

        @asynccontextmanager
        async def turn() -> AsyncIterator[StreamTurn]:
            async with container() as request:
                yield StreamTurn(
                    uow=await request.get(UnitOfWork),
                    access=await request.get(ConversationAccessCheck),
                    delivery=await request.get(MessageDelivery),
                )

        return StreamTurns(turn)


async def start_conversation_ingest(container: AsyncContainer) -> None:
    """Follow again, in the background, every conversation a previous run of the server left
    unfinished, and from then on every one whose server stopped or died."""
    ingest = await container.get(ConversationIngest)
    ingest.follow_unfinished_soon()
    ingest.keep_sweeping()
    sandboxes = await container.get(Sandboxes)
    if sandboxes.pool is not None:
        sandboxes.pool.keep_reaping()
