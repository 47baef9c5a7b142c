"""StartConversation on fakes and the scripted runtime: what the runtime is handed (the LLM
settings, the secrets, a short-lived git credential, never a provider token), when it refuses
before any runtime starts, and a runtime that fails to start."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from adapters.memory import InProcessEventFanOut, InProcessIngestLeases
from adapters.scripted import Finish, ScriptedRuntime, ScriptedWorld
from application.billing import (
    RESUME_HELD_JOB,
    AdjustBalance,
    AdjustBalanceRequest,
    BudgetPolicy,
    FundsCheck,
    UsageAccounting,
)
from application.conversations import (
    CallbackProcessors,
    ConcurrencyGate,
    ConversationDefaults,
    ConversationIngest,
    ConversationLimits,
    LimitPolicy,
    ResumeHeldConversation,
    StartConversation,
    StartConversationRequest,
    StartReports,
    StartsInProgress,
)
from application.conversations.git_access import RuntimeGitAccess
from application.conversations.policy import SandboxScope
from application.conversations.start_reports import START_INTERRUPTED
from application.errors import DependencyUnavailableError
from application.git.runtime_credentials import (
    RuntimeCredentialTtl,
    RuntimeGitCredentials,
    read_runtime_grant,
)
from application.ports.conversation_runtime import StartProgress
from application.ports.org_repository import MemberOrganization
from application.secrets import SecretOpener
from application.settings import LlmConfigResolver
from domain.billing.holds import BillingHold, InsufficientFundsError, MemberCapReachedError
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.billing.usage import LlmPayer, UsageRecord, UsageTotals
from domain.conversations.entities import Conversation, ConversationStatus, StoredEvent
from domain.conversations.errors import ConversationLimitReachedError, LlmNotConfiguredError
from domain.conversations.value_objects import (
    SERVER_SOURCE,
    ConversationId,
    EventType,
    RuntimeStatus,
    StartPhase,
    StartSpec,
)
from domain.git.entities import ProviderToken
from domain.git.errors import ProviderNotConnectedError
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from domain.identity.principals import AuthMethod, Principal
from domain.jobs.entities import Job
from domain.organizations.entities import Membership, OrgId, Role
from domain.resolver.triggers import ConversationTrigger
from domain.secrets.entities import CustomSecret, SecretId, SecretName, SecretValue
from domain.settings.entities import OrgSettings, SettingField, SettingsValues, UserSettings
from domain.settings.mcp import McpConfig, McpRemoteServer
from domain.settings.value_objects import LlmApiKey, LlmModel
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id
from tests.factories import T0, create_org, create_user
from tests.fakes import (
    FakeClock,
    FakeStore,
    FakeUnitOfWork,
)
from tests.fakes.analytics import no_experiments
from tests.fakes.conversations import FakeConversationRepository
from tests.fakes.git_providers import FakeGitProviders
from tests.fakes.metrics import FakeMetrics
from tests.fakes.token_signer import FakeTokenSigner
from tests.fakes.unit_of_work import FakeUnitsOfWork
from tests.support.polling import until

DEFAULTS = ConversationDefaults(
    workspace_root="/data/workspaces/",
    git_token_url="https://maestrist.example.com/api/runtime/git-token",
)

NO_BILLING = BudgetPolicy()


class FailingRuntime(ScriptedRuntime):
    async def start(self, spec: StartSpec, progress: StartProgress | None = None) -> RuntimeStatus:
        raise DependencyUnavailableError("The agent runtime did not answer.")


@dataclass
class Rig:
    store: FakeStore
    world: ScriptedWorld
    actor: Principal
    org: MemberOrganization
    signer: FakeTokenSigner
    clock: FakeClock
    ingest: ConversationIngest
    fan_out: InProcessEventFanOut
    in_progress: StartsInProgress

    def sut(
        self,
        runtime: ScriptedRuntime | None = None,
        limits: ConversationLimits | None = None,
        uow: FakeUnitOfWork | None = None,
        defaults: ConversationDefaults = DEFAULTS,
        policy: BudgetPolicy = NO_BILLING,
    ) -> StartConversation:
        uow = uow or FakeUnitOfWork(self.store)
        runtime = runtime or ScriptedRuntime(self.world)
        return StartConversation(
            uow,
            FakeUnitsOfWork(self.store),
            no_experiments(self.clock),
            runtime,
            self.ingest,
            LlmConfigResolver(uow),
            SecretOpener(uow),
            RuntimeGitAccess(
                RuntimeGitCredentials(
                    self.signer, self.clock, RuntimeCredentialTtl(timedelta(minutes=10))
                ),
                DEFAULTS,
                runtime,
            ),
            FakeGitProviders(),
            ConcurrencyGate(uow, runtime, limits or ConversationLimits(), self.clock),
            defaults,
            self.clock,
            StartReports(
                FakeUnitsOfWork(self.store),
                self.fan_out,
                self.clock,
                FakeMetrics(),
                CallbackProcessors(),
                runtime.message_text,
            ),
            self.in_progress,
            FundsCheck(policy),
        )

    def connect(self, host: GitHost) -> None:
        self.store.live.provider_tokens[(self.actor.user.id_, host.kind)] = ProviderToken(
            user_id=self.actor.user.id_,
            host=host,
            access_token="ghp_never-handed-over",
            refresh_token=None,
            expires_at=None,
            scopes=None,
            updated_at=T0,
        )
        self.store.commit()

    def configure(self, model: str | None = None, key: str | None = None) -> None:
        values = SettingsValues(
            llm_model=None if model is None else LlmModel(model),
            llm_api_key=None if key is None else LlmApiKey(key),
        )
        self.store.live.user_settings[self.actor.user.id_] = UserSettings(
            user_id=self.actor.user.id_, values=values, updated_at=T0
        )
        self.store.commit()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    store = FakeStore()
    user = create_user()
    org, membership = create_org(user)
    store.live.users[user.id_] = user
    store.live.orgs[org.id_] = org
    store.live.memberships[(org.id_, user.id_)] = membership
    secret = CustomSecret(
        id_=SecretId(new_id()),
        user_id=user.id_,
        name=SecretName("NPM_TOKEN"),
        value=SecretValue("npm-secret"),
        description=None,
        created_at=T0,
        updated_at=T0,
    )
    store.live.secrets[secret.id_] = secret
    store.commit()
    world = ScriptedWorld()
    clock = FakeClock()
    fan_out = InProcessEventFanOut()
    in_progress = StartsInProgress()
    ingest = ConversationIngest(
        ScriptedRuntime(world),
        InProcessIngestLeases(),
        fan_out,
        FakeUnitsOfWork(store),
        clock,
        CallbackProcessors(),
        metrics=FakeMetrics(),
        accounting=UsageAccounting(NO_BILLING),
    )
    yield Rig(
        store,
        world,
        Principal(user=user, method=AuthMethod.SESSION),
        MemberOrganization(organization=org, role=membership.role),
        FakeTokenSigner(),
        clock,
        ingest,
        fan_out,
        in_progress,
    )
    await in_progress.aclose()
    await ingest.aclose()
    await world.aclose()


async def test_the_runtime_gets_the_llm_the_secrets_and_a_credential_not_a_token(
    rig: Rig,
) -> None:
    rig.configure("openai/gpt-4o", "sk-real-key")
    rig.connect(GitHost(ProviderKind.GITHUB, "https://ghe.example.com"))
    made = (
        await rig.sut().execute(
            StartConversationRequest(
                actor=rig.actor,
                org=rig.org,
                repository="acme/widgets",
                branch="main",
                git_provider="GitHub",
            )
        )
    ).conversation
    assert made.status is ConversationStatus.IDLE
    assert rig.store.committed.conversations[made.id_].status is ConversationStatus.IDLE
    spec = rig.world.conversations[made.id_].spec
    assert (spec.model, spec.api_key) == ("openai/gpt-4o", "sk-real-key")
    assert spec.workspace_dir == f"/data/workspaces/{made.id_}"
    assert dict(spec.secrets) == {"NPM_TOKEN": "npm-secret"}
    assert spec.tags == {"org": str(rig.org.organization.id_), "user": str(rig.actor.user.id_)}
    assert spec.git is not None
    assert spec.git.provider == "github"
    assert spec.git.token_url == "https://maestrist.example.com/api/runtime/git-token"
    grant = read_runtime_grant(rig.signer, spec.git.credential, rig.clock.now())
    assert (grant.user_id, grant.provider) == (rig.actor.user.id_, ProviderKind.GITHUB)
    shown = repr(spec)
    assert "sk-real-key" not in shown
    assert "npm-secret" not in shown
    assert spec.git.credential not in shown
    assert "ghp_never-handed-over" not in shown
    assert spec.checkout is not None
    assert spec.checkout.clone_url == "https://ghe.example.com/acme/widgets.git"
    assert (spec.checkout.username, spec.checkout.branch) == ("x-access-token", "main")
    processors = sorted(c.processor for c in rig.store.committed.callbacks.values())
    assert processors == ["active_seconds", "analytics", "set_title"]


@pytest.mark.parametrize(
    ("model", "key", "missing"),
    [
        (None, None, ("llm_model", "llm_api_key")),
        ("openai/gpt-4o", None, ("llm_api_key",)),
        (None, "sk-x", ("llm_model",)),
    ],
)
async def test_without_an_llm_nothing_is_stored_or_started(
    rig: Rig, model: str | None, key: str | None, missing: Sequence[str]
) -> None:
    rig.configure(model, key)
    with pytest.raises(LlmNotConfiguredError) as refused:
        await rig.sut().execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, message="Hello")
        )
    assert refused.value.missing == tuple(missing)
    assert rig.store.committed.conversations == {}
    assert rig.world.conversations == {}


@pytest.mark.parametrize(
    ("request_changes", "field"),
    [
        ({"repository": "acme/widgets"}, "git_provider"),
        ({"repository": "widgets", "git_provider": "github"}, "repository"),
        ({"git_provider": "svn"}, "git_provider"),
        ({"branch": ""}, "branch"),
        ({"title": "   "}, "title"),
        ({"images": ("ftp://example.com/a.png",)}, "images"),
    ],
)
async def test_bad_input_is_refused_before_anything_starts(
    rig: Rig, request_changes: dict[str, object], field: str
) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    with pytest.raises(InvalidValueError) as refused:
        await rig.sut().execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, **request_changes)  # type: ignore[arg-type]
        )
    assert refused.value.field == field
    assert rig.world.conversations == {}


@pytest.mark.parametrize(
    ("request_changes", "field", "said"),
    [
        ({"repository": "acme/widgets"}, "git_provider", "Name the repository's git provider."),
        ({"branch": "b" * 256}, "branch", "A branch name is 1 to 255 characters."),
    ],
)
async def test_a_refusal_names_the_field_and_says_what_is_wanted(
    rig: Rig, request_changes: dict[str, object], field: str, said: str
) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    with pytest.raises(InvalidValueError) as refused:
        await rig.sut().execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, **request_changes)  # type: ignore[arg-type]
        )
    assert (refused.value.field, refused.value.message) == (field, said)


@pytest.mark.parametrize("length", [1, 255])
async def test_branch_names_of_the_shortest_and_longest_length_are_taken(
    rig: Rig, length: int
) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    made = await rig.sut().execute(
        StartConversationRequest(actor=rig.actor, org=rig.org, branch="b" * length)
    )
    assert made.conversation.branch == "b" * length


async def test_the_runtime_gets_every_llm_setting_and_the_servers_defaults(rig: Rig) -> None:
    mcp = McpConfig(sse_servers=(McpRemoteServer(url="https://mcp.example.com/sse"),))
    values = SettingsValues().changed(
        {
            SettingField.LLM_MODEL: "openai/gpt-4o",
            SettingField.LLM_API_KEY: "sk-x",
            SettingField.LLM_BASE_URL: "https://llm.example.com/v1",
            SettingField.LANGUAGE: "pt-BR",
            SettingField.MCP_CONFIG: mcp,
        }
    )
    rig.store.live.user_settings[rig.actor.user.id_] = UserSettings(
        user_id=rig.actor.user.id_, values=values, updated_at=T0
    )
    rig.store.commit()
    defaults = replace(DEFAULTS, tools=("terminal",), llm_retries=2)

    made = await rig.sut(defaults=defaults).execute(
        StartConversationRequest(actor=rig.actor, org=rig.org)
    )

    spec = rig.world.conversations[made.conversation.id_].spec
    assert (spec.base_url, spec.language, spec.mcp) == ("https://llm.example.com/v1", "pt-BR", mcp)
    assert (spec.tools, spec.llm_retries, spec.max_iterations) == (("terminal",), 2, 500)


async def test_the_iteration_limit_a_user_chose_reaches_the_runtime(rig: Rig) -> None:
    values = SettingsValues().changed(
        {
            SettingField.LLM_MODEL: "openai/gpt-4o",
            SettingField.LLM_API_KEY: "sk-x",
            SettingField.MAX_ITERATIONS: 120,
        }
    )
    rig.store.live.user_settings[rig.actor.user.id_] = UserSettings(
        user_id=rig.actor.user.id_, values=values, updated_at=T0
    )
    rig.store.commit()

    made = await rig.sut().execute(StartConversationRequest(actor=rig.actor, org=rig.org))

    assert rig.world.conversations[made.conversation.id_].spec.max_iterations == 120


class SandboxCheckingRuntime(ScriptedRuntime):
    """Remembers the sandbox each start was checked for before anything was recorded."""

    def __init__(self, world: ScriptedWorld) -> None:
        super().__init__(world)
        self.checked: list[str | None] = []

    async def check_available(self, sandbox: str | None = None) -> None:
        self.checked.append(sandbox)


@pytest.mark.parametrize("scope", [SandboxScope.ORG, SandboxScope.USER, None])
async def test_a_start_is_checked_and_made_in_its_tenants_own_sandbox(
    rig: Rig, scope: SandboxScope | None
) -> None:
    """Sandboxes keep organizations (or people) apart: the start is checked for, and made
    in, the sandbox of the one who starts it, or none when the server has no sandboxes."""
    rig.configure("openai/gpt-4o", "sk-x")
    runtime = SandboxCheckingRuntime(rig.world)
    org, user = rig.org.organization.id_, rig.actor.user.id_
    expected = {
        SandboxScope.ORG: f"org-{org}",
        SandboxScope.USER: f"user-{org}-{user}",
        None: None,
    }[scope]

    made = await rig.sut(runtime, defaults=replace(DEFAULTS, sandbox=scope)).execute(
        StartConversationRequest(actor=rig.actor, org=rig.org)
    )

    assert runtime.checked == [expected]
    assert rig.world.conversations[made.conversation.id_].spec.sandbox == expected


async def test_a_child_started_without_waiting_is_noted_in_its_parents_events(rig: Rig) -> None:
    """With ``wait=False`` the start goes on after the answer, and still tells the parent's
    agent that a child started on its workspace."""
    rig.configure("openai/gpt-4o", "sk-x")
    parent = (
        await rig.sut().execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    ).conversation

    child = (
        await rig.sut().execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, parent_id=parent.id_, wait=False)
        )
    ).conversation
    await until(lambda: not rig.in_progress, "the start is over")

    note = f"[Started child conversation {child.id_} on this workspace.]"
    told = [repr(e.payload) for e in rig.world.conversations[parent.id_].log]
    assert [text for text in told if note in text], told


async def test_a_runtime_that_fails_to_start_leaves_the_conversation_in_error(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    with pytest.raises(DependencyUnavailableError):
        await rig.sut(FailingRuntime(rig.world)).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, message="Hi")
        )
    [kept] = rig.store.committed.conversations.values()
    assert kept.status is ConversationStatus.ERROR
    assert kept.status_reason == "The agent runtime did not answer."
    assert kept.start_phase is StartPhase.WAITING_FOR_SANDBOX


class PhasedRuntime(ScriptedRuntime):
    """Starts through every phase, noting the phase committed when it enters each; it can
    hang in one of them until told to go on."""

    def __init__(
        self, world: ScriptedWorld, store: FakeStore, hang_in: StartPhase | None = None
    ) -> None:
        super().__init__(world)
        self.store = store
        self.hang_in = hang_in
        self.committed: list[StartPhase | None] = []
        self.hanging = asyncio.Event()
        self.go_on = asyncio.Event()
        """Set, the start hanging goes on."""

    async def start(self, spec: StartSpec, progress: StartProgress | None = None) -> RuntimeStatus:
        assert progress is not None
        for phase in (StartPhase.STARTING_SANDBOX, StartPhase.CLONING, StartPhase.SETTING_UP):
            await progress(phase)
            self.committed.append(
                self.store.committed.conversations[spec.conversation_id].start_phase
            )
            if phase is self.hang_in:
                self.hanging.set()
                await self.go_on.wait()
        return await super().start(spec, progress)


async def test_each_phase_of_a_start_is_committed_as_it_is_entered(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    runtime = PhasedRuntime(rig.world, rig.store)

    made = (
        await rig.sut(runtime).execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    ).conversation

    assert runtime.committed == [
        StartPhase.STARTING_SANDBOX,
        StartPhase.CLONING,
        StartPhase.SETTING_UP,
    ]
    kept = rig.store.committed.conversations[made.id_]
    assert (kept.status, kept.start_phase) == (ConversationStatus.IDLE, StartPhase.READY)
    assert noted(rig, made.id_) == [("StartPhaseChanged", phase.value) for phase in StartPhase]


def noted(rig: Rig, conversation_id: ConversationId) -> list[tuple[str, str | None]]:
    """The start's notes among the conversation's stored events: each kind and phase."""
    return [
        (event.kind, event.payload["phase"])
        for event in rig.store.committed.events.get(conversation_id, [])
        if event.source == SERVER_SOURCE
    ]


async def test_a_start_that_hangs_ends_in_error_naming_where_it_was_stuck(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    runtime = PhasedRuntime(rig.world, rig.store, hang_in=StartPhase.CLONING)
    defaults = replace(DEFAULTS, start_timeout_s=0.05)

    with pytest.raises(DependencyUnavailableError, match="could not start in time"):
        await rig.sut(runtime, defaults=defaults).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, message="Hi")
        )

    [kept] = rig.store.committed.conversations.values()
    assert (kept.status, kept.start_phase) == (ConversationStatus.ERROR, StartPhase.CLONING)
    assert kept.status_reason == "The start did not finish within 0.05 s (stuck cloning)."
    *_, failure = rig.store.committed.events[kept.id_]
    assert (failure.kind, failure.type, dict(failure.payload)) == (
        "StartFailed",
        EventType.ERROR,
        {"kind": "StartFailed", "phase": "cloning", "reason": kept.status_reason},
    )


async def test_a_start_answered_at_once_goes_on_and_its_watchers_see_each_phase(
    rig: Rig,
) -> None:
    """``wait=False`` (``Prefer: respond-async``) answers with the conversation recorded and
    starting; the phases, the start's outcome and the first message follow, and a watcher
    subscribed after the answer is told each phase as it comes."""
    rig.configure("openai/gpt-4o", "sk-x")
    runtime = PhasedRuntime(rig.world, rig.store, hang_in=StartPhase.CLONING)
    rig.world.script(Finish(message="Done"))

    made = (
        await rig.sut(runtime).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, message="Hi", wait=False)
        )
    ).conversation

    assert (made.status, made.start_phase) == (
        ConversationStatus.STARTING,
        StartPhase.WAITING_FOR_SANDBOX,
    )
    assert len(rig.in_progress) == 1
    async with rig.fan_out.subscribe(made.id_, buffer=100) as live:
        heard = aiter(live)
        await until(runtime.hanging.is_set, "the start hangs in cloning")
        assert noted(rig, made.id_)[-1] == ("StartPhaseChanged", "cloning")
        runtime.go_on.set()
        phases: list[str] = []
        while not phases or phases[-1] != "ready":
            phases.append((await anext(heard)).payload["phase"])
    # live, in order; those after the hang were certainly published after the subscription
    every = [phase.value for phase in StartPhase]
    assert phases == every[every.index(phases[0]) :]
    assert phases[-2:] == ["setting_up", "ready"]
    await until(lambda: not rig.in_progress, "the start is over")

    def kept() -> Conversation:
        return rig.store.committed.conversations[made.id_]

    # the first message went to the agent, which finished, and the ingest followed that
    await until(lambda: kept().status is ConversationStatus.FINISHED, "the agent finished")
    assert kept().start_phase is StartPhase.READY


async def test_a_start_records_where_it_came_from(rig: Rig) -> None:
    """A trigger's start keeps the trigger and the issue it answers; otherwise the caller's
    credential says: an API key's start came from the API, a session's from the web."""
    rig.configure("openai/gpt-4o", "sk-x")
    issue = "https://github.com/acme/widgets/issues/7"
    asked = [
        StartConversationRequest(
            actor=rig.actor, org=rig.org, trigger=ConversationTrigger.GITHUB, origin_url=issue
        ),
        StartConversationRequest(actor=rig.actor, org=rig.org),
        StartConversationRequest(actor=replace(rig.actor, method=AuthMethod.API_KEY), org=rig.org),
    ]
    made = [(await rig.sut().execute(request)).conversation.id_ for request in asked]
    kept = [rig.store.committed.conversations[made_id] for made_id in made]
    assert [(c.trigger, c.origin_url) for c in kept] == [
        (ConversationTrigger.GITHUB, issue),
        (ConversationTrigger.WEB, None),
        (ConversationTrigger.API, None),
    ]


async def test_a_start_announces_its_first_note_to_the_conversations_watchers(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note a start stores first is published on the conversation's own channel at once,
    so a watcher that subscribed meanwhile sees it without reading the store."""
    rig.configure("openai/gpt-4o", "sk-x")
    published: list[tuple[ConversationId, list[int]]] = []
    publish = rig.fan_out.publish

    async def recorded(conversation_id: ConversationId, events: Sequence[StoredEvent]) -> None:
        published.append((conversation_id, [e.seq for e in events]))
        await publish(conversation_id, events)

    monkeypatch.setattr(rig.fan_out, "publish", recorded)
    made = (
        await rig.sut().execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, message="Hi", wait=False)
        )
    ).conversation
    assert published[0] == (made.id_, [1])
    await until(lambda: not rig.in_progress, "the start is over")


async def test_a_start_answered_at_once_that_fails_says_why_in_its_events(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")

    made = (
        await rig.sut(FailingRuntime(rig.world)).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, wait=False)
        )
    ).conversation

    await until(lambda: not rig.in_progress, "the start is over")
    kept = rig.store.committed.conversations[made.id_]
    assert (kept.status, kept.status_reason) == (
        ConversationStatus.ERROR,
        "The agent runtime did not answer.",
    )
    assert noted(rig, made.id_) == [
        ("StartPhaseChanged", "waiting_for_sandbox"),
        ("StartFailed", "waiting_for_sandbox"),
    ]


async def test_a_start_going_on_when_the_server_stops_fails_saying_so(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    runtime = PhasedRuntime(rig.world, rig.store, hang_in=StartPhase.SETTING_UP)
    made = (
        await rig.sut(runtime).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, wait=False)
        )
    ).conversation
    await until(runtime.hanging.is_set, "the start hangs setting up")

    await rig.in_progress.aclose()

    kept = rig.store.committed.conversations[made.id_]
    assert (kept.status, kept.start_phase) == (ConversationStatus.ERROR, StartPhase.SETTING_UP)
    assert kept.status_reason == START_INTERRUPTED
    assert noted(rig, made.id_)[-1] == ("StartFailed", "setting_up")


async def test_a_repository_of_a_provider_not_connected_is_refused_before_anything_starts(
    rig: Rig,
) -> None:
    rig.configure("openai/gpt-4o", "sk-real-key")
    with pytest.raises(ProviderNotConnectedError):
        await rig.sut().execute(
            StartConversationRequest(
                actor=rig.actor, org=rig.org, repository="acme/widgets", git_provider="gitlab"
            )
        )
    assert rig.store.committed.conversations == {}
    assert rig.world.conversations == {}


class PauseWatchingRuntime(ScriptedRuntime):
    """Notes which conversations were committed when it was asked to pause one."""

    def __init__(self, world: ScriptedWorld, store: FakeStore) -> None:
        super().__init__(world)
        self.store = store
        self.committed_at_pause: set[ConversationId] = set()

    async def pause(self, conversation_id: ConversationId) -> None:
        self.committed_at_pause = set(self.store.committed.conversations)
        await super().pause(conversation_id)


async def test_at_the_limit_a_start_stores_nothing_and_starts_nothing(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    limits = ConversationLimits(per_user=1)
    request = StartConversationRequest(actor=rig.actor, org=rig.org)
    first = (await rig.sut(limits=limits).execute(request)).conversation
    with pytest.raises(ConversationLimitReachedError) as refused:
        await rig.sut(limits=limits).execute(request)
    assert (refused.value.limit, refused.value.scope) == (1, "user")
    assert list(rig.store.committed.conversations) == [first.id_]
    assert list(rig.world.conversations) == [first.id_]


async def test_pause_oldest_pauses_the_idle_one_on_the_runtime_after_the_commit(rig: Rig) -> None:
    rig.configure("openai/gpt-4o", "sk-x")
    limits = ConversationLimits(per_user=1, policy=LimitPolicy.PAUSE_OLDEST)
    runtime = PauseWatchingRuntime(rig.world, rig.store)
    request = StartConversationRequest(actor=rig.actor, org=rig.org)
    first = (await rig.sut(runtime, limits).execute(request)).conversation
    second = (await rig.sut(runtime, limits).execute(request)).conversation
    committed = rig.store.committed.conversations
    assert committed[first.id_].status is ConversationStatus.PAUSED
    assert committed[second.id_].status is ConversationStatus.IDLE
    assert rig.world.conversations[first.id_].status is RuntimeStatus.PAUSED
    assert runtime.committed_at_pause == {first.id_, second.id_}


async def test_pause_oldest_starts_the_new_one_when_the_runtime_lost_the_oldest(
    rig: Rig,
) -> None:
    """The oldest conversation is paused in our records; that its runtime no longer knows it
    (a restart) does not stop the new one from starting."""
    rig.configure("openai/gpt-4o", "sk-x")
    limits = ConversationLimits(per_user=1, policy=LimitPolicy.PAUSE_OLDEST)
    request = StartConversationRequest(actor=rig.actor, org=rig.org)
    first = (await rig.sut(limits=limits).execute(request)).conversation
    del rig.world.conversations[first.id_]  # the runtime lost it

    second = (await rig.sut(limits=limits).execute(request)).conversation

    committed = rig.store.committed.conversations
    assert committed[first.id_].status is ConversationStatus.PAUSED
    assert committed[second.id_].status is ConversationStatus.IDLE


async def test_the_per_org_limit_counts_the_starts_of_every_member(rig: Rig) -> None:
    """A limit of 2 in the organization and none per member: one start each by two members
    fills it, and a third start is refused whichever of them asks."""
    rig.configure("openai/gpt-4o", "sk-x")
    teammate = create_user()
    org_id = rig.org.organization.id_
    rig.store.live.users[teammate.id_] = teammate
    rig.store.live.memberships[(org_id, teammate.id_)] = Membership(
        org_id=org_id, user_id=teammate.id_, role=Role.MEMBER, joined_at=T0
    )
    rig.store.live.user_settings[teammate.id_] = replace(
        rig.store.live.user_settings[rig.actor.user.id_], user_id=teammate.id_
    )
    rig.store.commit()
    limits = ConversationLimits(per_org=2)
    owner = StartConversationRequest(actor=rig.actor, org=rig.org)
    member = StartConversationRequest(
        actor=Principal(user=teammate, method=AuthMethod.SESSION),
        org=MemberOrganization(organization=rig.org.organization, role=Role.MEMBER),
    )
    started = [(await rig.sut(limits=limits).execute(r)).conversation.id_ for r in (owner, member)]
    for request in (owner, member):
        uow = FakeUnitOfWork(rig.store)
        with pytest.raises(ConversationLimitReachedError) as refused:
            await rig.sut(limits=limits, uow=uow).execute(request)
        await uow.rollback()
        assert (refused.value.limit, refused.value.scope) == (2, "org")
    assert sorted(rig.store.committed.conversations) == sorted(started)
    assert sorted(rig.world.conversations) == sorted(started)


class RoundTripConversations(FakeConversationRepository):
    """The fake conversation rows answering as a database does, after a round trip: other
    transactions run while a read is on its way back. ``lock_admissions`` does nothing when
    ``admissions_lock`` is off, the store without the lock a negative control needs."""

    def __init__(self, store: FakeStore, *, admissions_lock: bool) -> None:
        super().__init__(store)
        self._admissions_lock = admissions_lock

    async def lock_admissions(self, org_id: OrgId) -> None:
        await asyncio.sleep(0)
        if self._admissions_lock:
            await super().lock_admissions(org_id)

    async def holding_runtime(
        self, org_id: OrgId, user_id: UserId | None = None
    ) -> list[Conversation]:
        await asyncio.sleep(0)
        found = await super().holding_runtime(org_id, user_id)
        await asyncio.sleep(0)
        return found

    async def add(self, conversation: Conversation) -> None:
        await asyncio.sleep(0)
        await super().add(conversation)


class RoundTripUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: FakeStore, *, admissions_lock: bool) -> None:
        super().__init__(store)
        self.conversations = RoundTripConversations(self._store, admissions_lock=admissions_lock)

    async def commit(self) -> None:
        await asyncio.sleep(0)
        await super().commit()


def add_member(rig: Rig) -> StartConversationRequest:
    """A member of the rig's organization with the owner's LLM settings: a request of theirs."""
    member = create_user()
    org_id = rig.org.organization.id_
    rig.store.live.users[member.id_] = member
    rig.store.live.memberships[(org_id, member.id_)] = Membership(
        org_id=org_id, user_id=member.id_, role=Role.MEMBER, joined_at=T0
    )
    rig.store.live.user_settings[member.id_] = replace(
        rig.store.live.user_settings[rig.actor.user.id_], user_id=member.id_
    )
    rig.store.commit()
    return StartConversationRequest(
        actor=Principal(user=member, method=AuthMethod.SESSION),
        org=MemberOrganization(organization=rig.org.organization, role=Role.MEMBER),
    )


async def race_starts(
    rig: Rig,
    limits: ConversationLimits,
    requests: Sequence[StartConversationRequest],
    *,
    admissions_lock: bool,
) -> list[ConversationLimitReachedError]:
    """Every request started at once, each in a request scope of its own whose transaction
    ends with the request, as the container ends it; what was refused. A refused start never
    commits: without that end its transaction, and the admission lock it took, would stay
    open, and every start after it would wait for the lock forever."""

    async def start(request: StartConversationRequest) -> ConversationLimitReachedError | None:
        uow = RoundTripUnitOfWork(rig.store, admissions_lock=admissions_lock)
        try:
            await rig.sut(limits=limits, uow=uow).execute(request)
        except ConversationLimitReachedError as refused:
            return refused
        finally:
            await uow.rollback()
        return None

    try:
        async with asyncio.timeout(30):
            outcomes = await asyncio.gather(*(start(request) for request in requests))
    except TimeoutError:
        raise AssertionError(
            "the concurrent starts did not all end: one waits for an admission lock that a "
            "finished transaction never released"
        ) from None
    return [outcome for outcome in outcomes if outcome is not None]


async def admitted_in_race(rig: Rig, *, admissions_lock: bool) -> Counter[UserId]:
    """Three members of one organization start three conversations each, all at once, under
    a limit of 2 per member and 5 in the organization: how many each got."""
    rig.configure("openai/gpt-4o", "sk-x")
    owner = StartConversationRequest(actor=rig.actor, org=rig.org)
    members = [owner, add_member(rig), add_member(rig)]
    limits = ConversationLimits(per_user=2, per_org=5)
    refused = await race_starts(
        rig, limits, [m for m in members for _ in range(3)], admissions_lock=admissions_lock
    )
    committed = rig.store.committed.conversations
    assert len(refused) + len(committed) == 9
    assert sorted(rig.world.conversations) == sorted(committed)
    return Counter(c.tenant.user_id for c in committed.values())


async def test_concurrent_starts_admit_exactly_the_limits(rig: Rig) -> None:
    admitted = await admitted_in_race(rig, admissions_lock=True)
    assert sum(admitted.values()) == 5
    assert max(admitted.values()) == 2
    assert len(admitted) == 3


async def test_without_the_admission_lock_concurrent_starts_exceed_the_limits(
    rig: Rig,
) -> None:
    """The negative control: the same race over a store whose admission lock does nothing
    admits more than the limits allow, so the test above proves the lock keeps them."""
    admitted = await admitted_in_race(rig, admissions_lock=False)
    assert sum(admitted.values()) > 5
    assert max(admitted.values()) > 2


def _org_pays(rig: Rig) -> None:
    """The member has a model of their own and the organization's key (its defaults)."""
    rig.configure("litellm_proxy/claude-sonnet")
    org_id = rig.org.organization.id_
    rig.store.live.org_settings[org_id] = OrgSettings(
        org_id=org_id, values=SettingsValues(llm_api_key=LlmApiKey("sk-org")), updated_at=T0
    )
    rig.store.commit()


async def _fund(rig: Rig, amount_micros: int) -> None:
    async with FakeUnitsOfWork(rig.store).begin() as tx:
        await tx.ledger.record(
            LedgerEntry(
                org_id=rig.org.organization.id_,
                kind=EntryKind.PURCHASE if amount_micros > 0 else EntryKind.USAGE,
                amount_micros=amount_micros,
                source="test",
                source_id=str(new_id()),
                created_at=T0,
            )
        )
        await tx.commit()


ENFORCED = BudgetPolicy(enforced=True, min_balance_micros=2_000_000)


async def test_who_pays_for_the_llm_is_recorded_with_the_conversation(rig: Rig) -> None:
    _org_pays(rig)
    started = await rig.sut().execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    assert started.conversation.llm_payer is LlmPayer.ORG
    rig.configure("litellm_proxy/claude-sonnet", "sk-mine")
    started = await rig.sut().execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    assert started.conversation.llm_payer is LlmPayer.USER
    assert {c.llm_payer for c in rig.store.committed.conversations.values()} == {
        LlmPayer.ORG,
        LlmPayer.USER,
    }


@pytest.mark.parametrize("balance", [0, 1_999_999])
async def test_below_the_minimum_balance_a_start_the_org_pays_for_is_refused(
    rig: Rig, balance: int
) -> None:
    _org_pays(rig)
    if balance:
        await _fund(rig, balance)
    with pytest.raises(InsufficientFundsError) as refused:
        await rig.sut(policy=ENFORCED).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org, message="Go")
        )
    assert "2.00 USD" in refused.value.message
    assert f"{balance // 1_000_000}.{balance % 1_000_000 // 10_000:02d} USD" in (
        refused.value.message
    )
    assert rig.store.committed.conversations == {}
    assert rig.world.conversations == {}


async def test_at_the_minimum_or_on_ones_own_key_or_unenforced_a_start_goes_ahead(
    rig: Rig,
) -> None:
    _org_pays(rig)
    await rig.sut().execute(StartConversationRequest(actor=rig.actor, org=rig.org))  # unenforced
    await _fund(rig, 2_000_000)
    await rig.sut(policy=ENFORCED).execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    await _fund(rig, -1_500_000)
    rig.configure("litellm_proxy/claude-sonnet", "sk-mine")  # the member pays: no check
    await rig.sut(policy=ENFORCED).execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    assert len(rig.store.committed.conversations) == 3


async def test_a_member_past_the_monthly_cap_cannot_start_what_the_org_pays_for(
    rig: Rig,
) -> None:
    _org_pays(rig)
    await _fund(rig, 100_000_000)
    org_id, user_id = rig.org.organization.id_, rig.actor.user.id_
    async with FakeUnitsOfWork(rig.store).begin() as tx:
        await tx.ledger.set_member_cap(org_id, 5_000_000)
        for hours, cost in ((-24 * 40, 9_000_000), (0, 4_999_999)):  # last month's not counted
            await tx.usage.record(
                UsageRecord(
                    conversation_id=ConversationId(new_id()),
                    report_id="r",
                    org_id=org_id,
                    user_id=user_id,
                    model=None,
                    usage=UsageTotals(cost_micros=cost),
                    billed=True,
                    created_at=rig.clock.now() + timedelta(hours=hours),
                )
            )
        await tx.commit()
    await rig.sut(policy=ENFORCED).execute(StartConversationRequest(actor=rig.actor, org=rig.org))
    async with FakeUnitsOfWork(rig.store).begin() as tx:
        await tx.usage.record(
            UsageRecord(
                conversation_id=ConversationId(new_id()),
                report_id="r",
                org_id=org_id,
                user_id=user_id,
                model=None,
                usage=UsageTotals(cost_micros=1),
                billed=True,
                created_at=rig.clock.now(),
            )
        )
        await tx.commit()
    with pytest.raises(MemberCapReachedError):
        await rig.sut(policy=ENFORCED).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org)
        )
    assert len(rig.store.committed.conversations) == 1


def _resumer(rig: Rig, uow: FakeUnitOfWork) -> ResumeHeldConversation:
    runtime = ScriptedRuntime(rig.world)
    return ResumeHeldConversation(
        uow,
        runtime,
        rig.ingest,
        ConcurrencyGate(uow, runtime, ConversationLimits(), rig.clock),
        RuntimeGitAccess(
            RuntimeGitCredentials(rig.signer, rig.clock, RuntimeCredentialTtl(timedelta(10))),
            DEFAULTS,
            runtime,
        ),
        FundsCheck(ENFORCED),
        rig.clock,
    )


async def _top_up(rig: Rig, amount_micros: int) -> list[Job]:
    """An operator's credit; the resume jobs it enqueued in its transaction, as a worker
    would claim them."""
    await AdjustBalance(FakeUnitOfWork(rig.store), rig.clock).execute(
        AdjustBalanceRequest(
            org_id=rig.org.organization.id_, amount_micros=amount_micros, reason="top-up"
        )
    )
    return [job for job in rig.store.committed.jobs.values() if job.kind == RESUME_HELD_JOB]


async def test_a_conversation_held_for_funds_resumes_once_a_top_up_covers_the_minimum(
    rig: Rig,
) -> None:
    _org_pays(rig)
    await _fund(rig, 2_000_000)
    runtime = ScriptedRuntime(rig.world)
    started = (
        await rig.sut(runtime, policy=ENFORCED).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org)
        )
    ).conversation
    await runtime.pause(started.id_)
    held = rig.store.live.conversations[started.id_]
    held.status, held.billing_hold = ConversationStatus.PAUSED, BillingHold.FUNDS
    rig.store.commit()
    await _fund(rig, -2_500_000)  # what it spent

    [short] = await _top_up(rig, 100_000)
    await _resumer(rig, FakeUnitOfWork(rig.store)).handle(short)  # a top-up not enough
    assert rig.store.committed.conversations[started.id_].billing_hold is BillingHold.FUNDS
    assert rig.world.conversations[started.id_].status is RuntimeStatus.PAUSED

    jobs = await _top_up(rig, 3_000_000)
    [enough] = [job for job in jobs if job.id_ != short.id_]
    await _resumer(rig, FakeUnitOfWork(rig.store)).handle(enough)
    assert rig.store.committed.conversations[started.id_].billing_hold is None
    assert rig.world.conversations[started.id_].status is not RuntimeStatus.PAUSED
    assert await _top_up(rig, 1) == jobs  # nothing held any more: nothing more enqueued


async def test_a_held_conversation_stopped_since_is_only_released(rig: Rig) -> None:
    _org_pays(rig)
    await _fund(rig, 5_000_000)
    started = (
        await rig.sut(policy=ENFORCED).execute(
            StartConversationRequest(actor=rig.actor, org=rig.org)
        )
    ).conversation
    held = rig.store.live.conversations[started.id_]
    held.status, held.billing_hold = ConversationStatus.STOPPED, BillingHold.FUNDS
    rig.store.commit()
    [job] = await _top_up(rig, 1_000_000)
    await _resumer(rig, FakeUnitOfWork(rig.store)).handle(job)
    kept = rig.store.committed.conversations[started.id_]
    assert (kept.status, kept.billing_hold) == (ConversationStatus.STOPPED, None)
