import asyncio
import copy
import logging
from dataclasses import dataclass

from application.billing import FundsCheck
from application.conversations._shared import message_parts, owned, tenant_of
from application.conversations.callbacks import DEFAULT_CALLBACKS
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.ingest import ConversationIngest
from application.conversations.limits import Admission, ConcurrencyGate
from application.conversations.policy import ConversationDefaults
from application.conversations.start_reports import (
    START_INTERRUPTED,
    StartReports,
    StartsInProgress,
)
from application.errors import ApplicationError, DependencyUnavailableError
from application.experiments import ConversationExperiments
from application.ports.clock import Clock
from application.ports.conversation_runtime import ConversationRuntime
from application.ports.git_provider import GitProviders
from application.ports.org_repository import MemberOrganization
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from application.secrets.secret_opener import SecretOpener
from application.settings.llm_config import LlmConfig, LlmConfigResolver
from domain.conversations.entities import (
    CallbackId,
    Conversation,
    ConversationTitle,
    EventCallback,
    RepositoryName,
    Tenant,
)
from domain.conversations.errors import LlmNotConfiguredError
from domain.conversations.value_objects import (
    ConfirmationMode,
    ConversationId,
    MessagePart,
    RepositoryCheckout,
    StartPhase,
    StartSpec,
    TextPart,
)
from domain.git.errors import ProviderNotConnectedError
from domain.git.providers import ProviderKind
from domain.identity.principals import AuthMethod, Principal
from domain.resolver.triggers import ConversationTrigger
from domain.shared.errors import DomainError, InvalidValueError
from domain.shared.ids import new_id

_log = logging.getLogger(__name__)

__all__ = (
    "StartConversation",
    "StartConversationRequest",
    "StartConversationResult",
    "missing_llm_settings",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StartConversationRequest:
    actor: Principal
    org: MemberOrganization
    repository: str | None = None
    branch: str | None = None
    git_provider: str | None = None
    message: str | None = None
    images: tuple[str, ...] = ()
    title: str | None = None
    parent_id: ConversationId | None = None
    """Start it as a child of this conversation of the caller's, on its workspace."""
    trigger: ConversationTrigger | None = None
    """Where it was started from; None: the web client, or the API for an API key."""
    origin_url: str | None = None
    """The issue or pull request it answers, when a trigger there started it."""
    callbacks: tuple[str, ...] = ()
    """Callback processors it runs besides every conversation's."""
    wait: bool = True
    """Answer once the runtime holds it (or the start failed); False answers as soon as it
    is recorded, the start going on in the background, its phases reported as they come."""


def missing_llm_settings(llm: LlmConfig) -> tuple[str, ...]:
    """The settings a conversation still needs: a model, and a key unless a base URL points
    at an LLM that wants none."""
    missing = []
    if not llm.model:
        missing.append("llm_model")
    if not llm.api_key and not llm.base_url:
        missing.append("llm_api_key")
    return tuple(missing)


def trigger_of(actor: Principal) -> ConversationTrigger:
    """Where a caller starts a conversation from: the API with an API key, else the web."""
    return (
        ConversationTrigger.API if actor.method is AuthMethod.API_KEY else ConversationTrigger.WEB
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StartConversationResult:
    conversation: Conversation


def _reason(error: Exception) -> str:
    """What a failed start says, in its own words when they are ours to show."""
    if isinstance(error, DomainError | ApplicationError):
        return error.message
    return "The conversation could not start."


class StartConversation:
    """Start a conversation on a repository (optional) with a first message (optional), in
    the caller's active organization.

    Refuses before any runtime starts when the caller's settings lack an LLM model or key, and
    when the caller or the organization already has as many running conversations as the
    limits allow (or, by policy, pauses the least recently active idle one to make room). The
    runtime gets the LLM settings, the caller's secrets and, for a repository, a short-lived
    credential to fetch the provider token with, never the token itself.

    Two units of work, by necessity: the first checks the limits and stores the conversation
    as starting (so it counts against them) in one commit, admissions in the organization
    taking turns; the runtime starts after it, and the second records how that went.

    Each phase of the start is recorded as it begins, on the conversation and as an event in
    its log, so watchers see it go by; a failure the same way, with its reason. Without
    ``wait`` the caller has the conversation once the first unit of work is committed, and
    the start goes on as one of the ``StartsInProgress``.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        units: UnitsOfWork,
        experiments: ConversationExperiments,
        runtime: ConversationRuntime,
        ingest: ConversationIngest,
        llm: LlmConfigResolver,
        secrets: SecretOpener,
        git: RuntimeGitAccess,
        providers: GitProviders,
        gate: ConcurrencyGate,
        defaults: ConversationDefaults,
        clock: Clock,
        reports: StartReports,
        in_progress: StartsInProgress,
        funds: FundsCheck,
    ) -> None:
        self._uow = uow
        self._units = units
        self._experiments = experiments
        self._runtime = runtime
        self._ingest = ingest
        self._llm = llm
        self._secrets = secrets
        self._git = git
        self._providers = providers
        self._gate = gate
        self._defaults = defaults
        self._clock = clock
        self._reports = reports
        self._in_progress = in_progress
        self._funds = funds

    async def execute(self, request: StartConversationRequest) -> StartConversationResult:
        tenant = tenant_of(request.actor, request.org)
        parent = await self._parent(tenant, request)
        repository = None if request.repository is None else RepositoryName(request.repository)
        provider = (
            None
            if request.git_provider is None
            else ProviderKind.parse(request.git_provider, field="git_provider")
        )
        branch = request.branch
        if parent is not None:
            repository, branch, provider = parent.repository, parent.branch, parent.git_provider
        if repository is not None and provider is None:
            raise InvalidValueError("Name the repository's git provider.", field="git_provider")
        if branch is not None and not 0 < len(branch) <= 255:
            raise InvalidValueError("A branch name is 1 to 255 characters.", field="branch")
        parts = message_parts(request.message, request.images)
        title = None if request.title is None else ConversationTitle(request.title)
        llm = await self._llm.resolve(tenant.user_id, tenant.org_id)
        missing = missing_llm_settings(llm)
        if missing:
            raise LlmNotConfiguredError(missing)
        assert llm.model is not None
        await self._funds.check(self._uow, tenant, llm.payer, self._clock.now())
        checkout = (
            None  # the parent's workspace holds its clone already
            if parent is not None
            else await self._checkout(tenant, repository, branch, provider, llm)
        )
        secrets = await self._secrets.open_for(tenant.user_id)
        sandbox = self._defaults.sandbox_of(tenant)
        await self._runtime.check_available(sandbox)

        admission = await self._gate.admit(tenant)
        now = self._clock.now()
        conversation = Conversation(
            id_=ConversationId(new_id()),
            tenant=tenant,
            start_phase=StartPhase.WAITING_FOR_SANDBOX,
            title=title,
            repository=repository,
            branch=branch,
            git_provider=provider,
            parent_id=None if parent is None else parent.id_,
            max_budget_usd=llm.max_budget_per_task,
            llm_payer=llm.payer,
            trigger=request.trigger or trigger_of(request.actor),
            origin_url=request.origin_url,
            created_at=now,
            updated_at=now,
        )
        await self._uow.conversations.add(conversation)
        for processor in (*DEFAULT_CALLBACKS, *request.callbacks):
            await self._uow.callbacks.add(
                EventCallback(
                    id_=CallbackId(new_id()),
                    conversation_id=conversation.id_,
                    processor=processor,
                    updated_at=now,
                )
            )
        await self._experiments.start(self._uow, conversation)
        noted = await self._uow.events.append(
            conversation.id_, [self._reports.first(conversation)], fence=None
        )
        await self._uow.commit()
        await self._reports.announce(conversation.id_, noted)

        spec = StartSpec(
            conversation_id=conversation.id_,
            model=llm.model,
            api_key=llm.api_key,
            base_url=llm.base_url,
            workspace_dir=(
                f"{self._defaults.workspace_root.rstrip('/')}/{(parent or conversation).id_}"
            ),
            tools=self._defaults.tools,
            confirmation=(
                ConfirmationMode.ALWAYS if llm.confirmation_mode else self._defaults.confirmation
            ),
            max_iterations=llm.max_iterations or 500,
            llm_retries=self._defaults.llm_retries,
            tags={"org": str(tenant.org_id), "user": str(tenant.user_id)},
            secrets=secrets,
            git=None if provider is None else self._git.issue(tenant.user_id, provider),
            checkout=checkout,
            language=llm.language,
            mcp=llm.mcp,
            parent_id=None if parent is None else parent.id_,
            sandbox=sandbox,
        )
        if not request.wait:
            answered = copy.copy(conversation)  # the start goes on changing its own
            self._in_progress.launch(
                conversation.id_, self._go_on(conversation, spec, admission, parent, parts)
            )
            return StartConversationResult(conversation=answered)
        await self._go_on(conversation, spec, admission, parent, parts)
        return StartConversationResult(conversation=conversation)

    async def _go_on(
        self,
        conversation: Conversation,
        spec: StartSpec,
        admission: Admission,
        parent: Conversation | None,
        parts: list[MessagePart],
    ) -> None:
        """Everything after the first commit: room made, the runtime started through its
        phases, the outcome recorded, the conversation followed, its first message sent."""

        async def entered(phase: StartPhase) -> None:
            await self._reports.entered(conversation, phase)

        try:
            await self._gate.make_room(admission)
            async with asyncio.timeout(self._defaults.start_timeout_s):
                status = await self._runtime.start(spec, entered)
        except TimeoutError:
            phase = conversation.start_phase or StartPhase.WAITING_FOR_SANDBOX
            await self._reports.failed(
                conversation,
                f"The start did not finish within {self._defaults.start_timeout_s:g} s "
                f"(stuck {phase.value.replace('_', ' ')}).",
            )
            raise DependencyUnavailableError(
                "The conversation could not start in time; it is marked failed."
            ) from None
        except asyncio.CancelledError:
            await self._reports.failed(conversation, START_INTERRUPTED)
            raise
        except Exception as exc:
            await self._reports.failed(conversation, _reason(exc))
            raise
        conversation.follow_runtime(status, self._clock.now())
        await self._save(conversation)
        self._ingest.follow(conversation.id_)
        if parent is not None:
            await self._note_child(parent, conversation)
        if parts:
            await self._runtime.send_message(conversation.id_, parts)

    async def _note_child(self, parent: Conversation, child: Conversation) -> None:
        """Say in the parent's events that a child started on its workspace (a message that
        does not set its agent working); a parent whose runtime cannot take it now is left
        without the note."""
        note = TextPart(text=f"[Started child conversation {child.id_} on this workspace.]")
        try:
            await self._runtime.send_message(parent.id_, [note], run=False)
        except (DomainError, DependencyUnavailableError) as exc:
            _log.warning("child %s not noted in conversation %s: %s", child.id_, parent.id_, exc)

    async def _save(self, conversation: Conversation) -> None:
        async with self._units.begin() as tx:
            await tx.conversations.save(conversation)
            await tx.commit()

    async def _parent(
        self, tenant: Tenant, request: StartConversationRequest
    ) -> Conversation | None:
        """The conversation a child starts under: the caller's (another's is not found), a
        top-level one, and the child takes its repository and branch."""
        if request.parent_id is None:
            return None
        given = [
            name
            for name, value in (
                ("repository", request.repository),
                ("branch", request.branch),
                ("git_provider", request.git_provider),
            )
            if value is not None
        ]
        if given:
            raise InvalidValueError(
                "A child conversation works on its parent's repository and branch.",
                field=given[0],
            )
        parent = await owned(self._uow.conversations, tenant, request.parent_id)
        if parent.parent_id is not None:
            raise InvalidValueError(
                "A child conversation cannot have children of its own.", field="parent_id"
            )
        return parent

    async def _checkout(
        self,
        tenant: Tenant,
        repository: RepositoryName | None,
        branch: str | None,
        provider: ProviderKind | None,
        llm: LlmConfig,
    ) -> RepositoryCheckout | None:
        """Where to clone from: the host of the owner's connection to ``provider`` (a GitHub
        Enterprise or self-managed GitLab one included); not connected is refused here,
        before anything starts."""
        if repository is None or provider is None:
            return None
        connection = await self._uow.provider_tokens.get(tenant.user_id, provider)
        if connection is None:
            raise ProviderNotConnectedError(provider, field="git_provider")
        return RepositoryCheckout(
            clone_url=self._providers.clone_url(connection.host, repository.value),
            username=provider.clone_username,
            branch=branch,
            author_name=llm.git_author_name,
            author_email=llm.git_author_email,
        )
