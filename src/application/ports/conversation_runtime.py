from abc import abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Protocol

from domain.conversations.entities import StoredEvent
from domain.conversations.value_objects import (
    ConversationId,
    GitAccess,
    HostHealth,
    HostInfo,
    MessagePart,
    RuntimeEvent,
    RuntimeStatus,
    StartPhase,
    StartSpec,
)

__all__ = ("ConversationRuntime", "RuntimeHost", "StartProgress")

StartProgress = Callable[[StartPhase], Awaitable[None]]
"""Told each phase a start enters, as it enters it."""


class ConversationRuntime(Protocol):
    """Runs agent conversations: one per id we mint, on a runtime we reach through a host.

    Every method but ``start`` raises ``RuntimeConversationNotFoundError`` for an id the runtime
    does not know. Adapters raise ``RuntimeAuthRefusedError`` when the runtime refuses our
    credentials and ``DependencyUnavailableError`` when it does not answer.
    """

    async def check_available(self, sandbox: str | None = None) -> None:
        """Return when a conversation can start now in ``sandbox`` (``StartSpec.sandbox``),
        which runtimes with sandboxes start here; raise ``DependencyUnavailableError`` (its
        ``DependencyPreparingError`` while the runtime is being set up) saying why not. Called
        before anything is recorded, so that a refused start leaves nothing behind. Runtimes
        that are always there keep this default."""
        del sandbox

    @abstractmethod
    async def start(self, spec: StartSpec, progress: StartProgress | None = None) -> RuntimeStatus:
        """Create the conversation without running it, telling ``progress`` each phase it
        enters (``StartPhase``, ending with ``ready``); a second call with the same id changes
        nothing and answers its current status."""

    @abstractmethod
    async def send_message(
        self, conversation_id: ConversationId, parts: Sequence[MessagePart], *, run: bool = True
    ) -> None:
        """Append a user message; with ``run`` the agent works on it (resuming a paused or
        finished conversation, or picked up by the run in progress)."""

    @abstractmethod
    async def pause(self, conversation_id: ConversationId) -> None:
        """Soft: the agent stops after the step in progress, which still completes."""

    @abstractmethod
    async def resume(self, conversation_id: ConversationId) -> None:
        """Run again after a pause; a no-op when already running or when nothing is pending."""

    @abstractmethod
    async def stop(self, conversation_id: ConversationId) -> None:
        """Hard: cancel the step in progress (its LLM answer is discarded); ends ``paused``."""

    @abstractmethod
    async def get_status(self, conversation_id: ConversationId) -> RuntimeStatus: ...

    @abstractmethod
    def events(
        self, conversation_id: ConversationId, *, after: str | None = None
    ) -> AsyncGenerator[RuntimeEvent, None]:
        """The conversation's events after the runtime event id ``after`` (all with None),
        then live ones as they happen, each id once, until the caller closes the generator
        (``contextlib.aclosing``). Errors surface at ``__anext__``: an unknown conversation,
        an ``after`` it never had (``InvalidValueError``), a runtime gone for good.

        Each event is read by the adapter into what the application acts on (status, usage,
        a hard stop, why a run failed), its payload already stripped of every credential the
        runtime echoes; the application never reads the runtime's JSON."""

    @abstractmethod
    def message_text(self, event: StoredEvent) -> str | None:
        """The text of a user's message, read from one of this runtime's events as we stored
        it (its first text part); None for any other event. Reads only the event."""

    @abstractmethod
    def reply_text(self, event: StoredEvent) -> str | None:
        """What the agent answered, read from one of this runtime's events as we stored it:
        a message of its own, or what it said as it finished; None for any other event."""

    @abstractmethod
    async def respond_to_confirmation(
        self, conversation_id: ConversationId, *, accept: bool, reason: str = ""
    ) -> None:
        """Run (accept) or reject the action waiting for confirmation."""

    @abstractmethod
    async def renew_git_access(self, conversation_id: ConversationId, git: GitAccess) -> None:
        """Replace the git credential the agent fetches provider tokens with (credentials are
        short-lived, conversations are not): call it before the agent works again."""

    @abstractmethod
    async def delete(self, conversation_id: ConversationId) -> None:
        """Stop the conversation and remove its runtime state; the workspace is kept."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections; conversations keep running on the runtime."""


class RuntimeHost(Protocol):
    """Where an agent runtime runs: a child process of ours, or one operators run."""

    @abstractmethod
    async def ensure_running(self) -> HostInfo:
        """Start the runtime (or adopt the one already running) and wait until it is ready.
        Raises ``DependencyUnavailableError`` saying why it cannot."""

    @abstractmethod
    async def health(self) -> HostHealth: ...

    @abstractmethod
    async def stop(self) -> None:
        """Stop a runtime we started; conversations on it are kept and resume on next start."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what this object holds; a runtime process keeps running for the next
        server to adopt."""
