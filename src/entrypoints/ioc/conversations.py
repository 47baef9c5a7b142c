from collections.abc import AsyncIterator

from dishka import AsyncContainer, Provider, Scope, provide

from application.conversations import (
    CallbackProcessors,
    ConversationDefaults,
    ConversationFeed,
    ConversationIngest,
    ConversationLimits,
)
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.event_fan_out import EventFanOut
from application.ports.ingest_leases import IngestLeases
from application.ports.unit_of_work import UnitsOfWork
from entrypoints.settings import RuntimeKind, Settings

__all__ = ("ConversationsProvider", "start_conversation_ingest")


class ConversationsProvider(Provider):
    """The ingest, which outlives requests and stops with the server, the feed, and the limits
    and defaults of new conversations. The binding's own provider supplies the
    ``IngestLeases`` and the ``EventFanOut`` (in-process embedded, Redis clustered)."""

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
            per_user=settings.conversations.limit_per_user,
            per_org=settings.conversations.limit_per_org,
            policy=settings.conversations.limit_policy,
        )

    @provide(scope=Scope.APP)
    def defaults(self, settings: Settings) -> ConversationDefaults:
        root = (
            "/workspace/conversations"
            if settings.runtime.kind is RuntimeKind.EXTERNAL
            else str(settings.data_dir.absolute() / "workspaces")
        )
        return ConversationDefaults(
            workspace_root=root,
            git_token_url=f"{settings.server.effective_public_url}/api/runtime/git-token",
        )


async def start_conversation_ingest(container: AsyncContainer) -> None:
    """Follow again, in the background, every conversation a previous run of the server left
    unfinished."""
    (await container.get(ConversationIngest)).follow_unfinished_soon()
