"""Answering a trigger over the fakes: who may set the agent working, what the thread hears,
one conversation per issue, follow-ups sent to it, and a retried or cut-off job doing nothing
twice."""

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from application.conversations.send_message import SendMessage, SendMessageRequest
from application.conversations.start_conversation import (
    StartConversation,
    StartConversationRequest,
    StartConversationResult,
)
from application.errors import DependencyUnavailableError
from application.git.provider_tokens import ProviderTokenPolicy, ProviderTokens
from application.ports.git_app import (
    GitApp,
    GitApps,
    IssueThreads,
    RepositoryHooks,
    RepositoryPermission,
)
from application.ports.unit_of_work import UnitOfWork
from application.resolver import (
    AnswerTrigger,
    InstallationTokens,
    ResolverLinks,
    ResolverTrigger,
    ThreadCredentials,
)
from application.resolver.answer_trigger import MAX_TURNS
from domain.conversations.entities import (
    Conversation,
    ConversationStatus,
    RepositoryName,
    Tenant,
)
from domain.conversations.value_objects import ConversationId
from domain.git.entities import ProviderToken
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import User
from domain.jobs.entities import Job, JobStatus
from domain.organizations.entities import Membership, Role
from domain.resolver.entities import (
    AppInstallation,
    GitIdentity,
    InstallationToken,
    RepositoryHook,
    ResolverSettings,
)
from domain.resolver.triggers import (
    ConversationTrigger,
    EventSender,
    ThreadEvent,
    ThreadEventKind,
    ThreadRef,
    TriggerKind,
)
from domain.shared.ids import new_id
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeStore
from tests.fakes.clock import FakeClock
from tests.fakes.locks import FakeLocks
from tests.fakes.metrics import FakeMetrics
from tests.fakes.provider_oauth import FakeProviderOAuth
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork

GH = ProviderKind.GITHUB
GL = ProviderKind.GITLAB
REPO = "acme/widgets"
LINKS = ResolverLinks(
    public_url="https://maestrist.example",
    host_urls={GH: "https://github.com", GL: "https://gitlab.com"},
)
HOOK = "0190d0a0-0000-7000-8000-00000000beef"


@dataclass
class Threads(IssueThreads):
    permissions: dict[str, RepositoryPermission] = field(default_factory=dict)
    refuse_token: bool = False
    comments: list[tuple[int, str]] = field(default_factory=list)
    reactions: list[tuple[int, str | None]] = field(default_factory=list)
    branches: dict[int, str] = field(default_factory=dict)

    async def permission(self, repository: str, sender: EventSender) -> RepositoryPermission:
        await asyncio.sleep(0)  # a call to the provider: other jobs run meanwhile
        if self.refuse_token:
            raise ProviderReconnectRequiredError(GH, "GitHub answered 401")
        return self.permissions.get(sender.login, RepositoryPermission.NONE)

    async def react(self, thread: ThreadRef, comment_id: str | None, *, review: bool) -> None:
        self.reactions.append((thread.number, comment_id))

    async def comment(self, thread: ThreadRef, body: str) -> str:
        await asyncio.sleep(0)
        self.comments.append((thread.number, body))
        return str(len(self.comments))

    async def head_branch(self, thread: ThreadRef) -> str | None:
        await asyncio.sleep(0)
        return self.branches.get(thread.number)


@dataclass
class Apps(GitApps):
    threads_: Threads
    opened: list[tuple[GitHost, str]] = field(default_factory=list)

    def app(self, provider: ProviderKind) -> GitApp | None:
        return None

    def threads(self, host: GitHost, token: str) -> IssueThreads:
        self.opened.append((host, token))
        return self.threads_

    def hooks(self, host: GitHost, token: str) -> RepositoryHooks:
        raise AssertionError("not called")


class WorkerDiedError(Exception):
    pass


class RecordingStart(StartConversation):
    """Records what it was asked to start and keeps the conversation, as the real one's first
    commit does; ``die_after`` ends the worker right after that commit."""

    def __init__(self, uow: UnitOfWork, clock: FakeClock) -> None:
        self.uow, self.clock = uow, clock
        self.requests: list[StartConversationRequest] = []
        self.die_after = False

    async def execute(self, request: StartConversationRequest) -> StartConversationResult:
        self.requests.append(request)
        await asyncio.sleep(0)  # the real start awaits its checks: other jobs run meanwhile
        conversation = Conversation(
            id_=ConversationId(new_id()),
            tenant=Tenant(request.org.organization.id_, request.actor.user.id_),
            trigger=request.trigger or ConversationTrigger.WEB,
            origin_url=request.origin_url,
            created_at=self.clock.now(),
            updated_at=self.clock.now(),
        )
        conversation.repository = RepositoryName(request.repository or "")
        await self.uow.conversations.add(conversation)
        await self.uow.commit()
        if self.die_after:
            raise WorkerDiedError
        return StartConversationResult(conversation=conversation)


class RecordingSend(SendMessage):
    """Records the message and commits, as the real one commits before delivering it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.requests: list[SendMessageRequest] = []

    async def execute(self, request: SendMessageRequest) -> None:
        self.requests.append(request)
        await self.uow.commit()


@dataclass
class World:
    store: FakeStore
    clock: FakeClock
    threads: Threads
    ada: User
    bob: User
    stranger: User
    starts: list[StartConversationRequest] = field(default_factory=list)
    sends: list[SendMessageRequest] = field(default_factory=list)
    die_after_start: bool = False
    locks: FakeLocks = field(default_factory=FakeLocks)
    """Shared by every run, as servers share Redis."""
    opened: list[tuple[GitHost, str]] = field(default_factory=list)
    """The host and token each run acted with."""

    async def run(self, trigger: ResolverTrigger) -> None:
        uow = FakeUnitOfWork(self.store)
        start = RecordingStart(uow, self.clock)
        start.die_after = self.die_after_start
        send = RecordingSend(uow)
        apps = Apps(self.threads, self.opened)
        units = FakeUnitsOfWork(self.store)
        credentials = ThreadCredentials(
            uow,
            InstallationTokens(units, apps, FakeLocks(), self.clock),
            ProviderTokens(
                units,
                FakeProviderOAuth(self.clock),
                FakeLocks(),
                self.clock,
                ProviderTokenPolicy(),
                FakeMetrics(),
            ),
            LINKS,
        )
        sut = AnswerTrigger(uow, self.clock, apps, credentials, self.locks, start, send, LINKS)
        new = trigger.job()
        job = Job(
            id_=new.id_,
            kind=new.kind,
            payload=new.payload,
            key=new.key,
            status=JobStatus.RUNNING,
            attempts=1,
            retry=new.retry,
            run_at=self.clock.now(),
            locked_until=None,
            last_error=None,
            created_at=self.clock.now(),
            finished_at=None,
        )
        try:
            await sut.handle(job)
        finally:
            self.starts += start.requests
            self.sends += send.requests
            await uow.rollback()


@pytest.fixture
async def world() -> World:
    store, clock = FakeStore(), FakeClock(T0)
    ada, bob, stranger = create_user(), create_user(), create_user()
    org, founder = create_org(ada)
    uow = FakeUnitOfWork(store)
    for user in (ada, bob, stranger):
        await uow.users.add(user)
    await uow.orgs.add(org, founder)
    await uow.orgs.add_member(
        Membership(org_id=org.id_, user_id=bob.id_, role=Role.MEMBER, joined_at=T0)
    )
    for user, account in ((ada, "1"), (bob, "2"), (stranger, "3")):
        for provider in (GH, GL):
            await uow.git_identities.link(
                GitIdentity(
                    user_id=user.id_,
                    provider=provider,
                    account_id=account,
                    login=f"u{account}",
                    linked_at=T0,
                )
            )
    await uow.provider_tokens.put(
        ProviderToken(
            user_id=ada.id_,
            host=GitHost(GL),
            access_token="glpat-ada",
            refresh_token=None,
            expires_at=None,
            scopes="api",
            updated_at=T0,
        )
    )
    await uow.repository_hooks.add(
        RepositoryHook(
            id_=HOOK,
            provider=GL,
            web_url="https://gitlab.com",
            repository=REPO,
            org_id=org.id_,
            enabled_by=ada.id_,
            secret="s3cret",
            created_at=T0,
            updated_at=T0,
        )
    )
    await uow.app_installations.put(
        AppInstallation(
            provider=GH,
            installation_id="4242",
            account_login="acme",
            account_type="Organization",
            org_id=org.id_,
            updated_at=T0,
        )
    )
    await uow.app_installations.store_token(
        GH,
        "4242",
        InstallationToken(token="ghs_cached", expires_at=T0 + timedelta(hours=1)),
        replacing=None,
    )
    await uow.commit()
    threads = Threads(
        permissions=dict.fromkeys(("ada", "bob", "carol", "stranger"), RepositoryPermission.WRITE)
    )
    return World(store, clock, threads, ada, bob, stranger)


def _mention(
    login: str,
    account: str,
    *,
    number: int = 12,
    key: str = "d-1",
    pull: bool = False,
    provider: ProviderKind = GH,
) -> ResolverTrigger:
    return ResolverTrigger(
        key=f"webhook:{provider.value}:{key}",
        kind=TriggerKind.MENTION,
        installation_id="4242" if provider is GH else HOOK,
        event=ThreadEvent(
            kind=ThreadEventKind.COMMENTED,
            thread=ThreadRef(
                provider=provider, repository=REPO, number=number, is_pull_request=pull
            ),
            sender=EventSender(account_id=account, login=login),
            title="It crashes",
            body="On start.",
            comment_id=f"c-{key}",
            comment_body="@openhands fix it",
        ),
    )


async def test_a_writer_with_an_account_starts_one_conversation_and_the_thread_is_told(
    world: World,
) -> None:
    await world.run(_mention("ada", "1"))
    (started,) = world.starts
    assert started.actor.user.id_ == world.ada.id_
    assert (started.repository, started.branch, started.git_provider) == (REPO, None, "github")
    assert started.trigger is ConversationTrigger.GITHUB
    assert started.origin_url == "https://github.com/acme/widgets/issues/12"
    assert started.callbacks == ("resolver_reply",)
    assert started.message is not None
    assert "@openhands fix it" in started.message
    assert "It crashes" in started.message
    assert world.threads.reactions == [(12, "c-d-1")]
    ((number, on_it),) = world.threads.comments
    thread = world.store.live.resolver_threads[GH, REPO, 12]
    assert number == 12
    assert on_it == (
        "I'm on it! Follow my progress here: "
        f"https://maestrist.example/conversations/{thread.conversation_id}"
    )
    assert thread.acknowledged


async def test_a_retried_job_does_nothing_twice(world: World) -> None:
    await world.run(_mention("ada", "1"))
    await world.run(_mention("ada", "1"))
    assert len(world.starts) == 1
    assert len(world.threads.comments) == 1
    assert world.sends == []


async def test_a_conversation_whose_worker_died_before_its_thread_was_kept_is_adopted(
    world: World,
) -> None:
    world.die_after_start = True
    with pytest.raises(WorkerDiedError):
        await world.run(_mention("ada", "1"))
    assert world.store.live.resolver_threads == {}
    world.die_after_start = False
    await world.run(_mention("ada", "1"))
    assert len(world.starts) == 1
    (conversation,) = world.store.live.conversations.values()
    assert world.store.live.resolver_threads[GH, REPO, 12].conversation_id == conversation.id_
    assert len(world.threads.comments) == 1


async def test_a_follow_up_goes_to_the_conversation_as_its_owner(world: World) -> None:
    await world.run(_mention("ada", "1"))
    await world.run(_mention("bob", "2", key="d-2"))
    assert len(world.starts) == 1
    (sent,) = world.sends
    thread = world.store.live.resolver_threads[GH, REPO, 12]
    assert sent.conversation_id == thread.conversation_id
    assert sent.actor.user.id_ == world.ada.id_
    assert sent.text is not None
    assert sent.text.startswith("@bob asked")
    assert world.threads.reactions == [(12, "c-d-1"), (12, "c-d-2")]
    await world.run(_mention("bob", "2", key="d-2"))
    assert len(world.sends) == 1


async def test_a_deleted_conversation_makes_way_for_a_new_one(world: World) -> None:
    await world.run(_mention("ada", "1"))
    world.store.live.conversations.clear()
    await world.run(_mention("ada", "1", key="d-2"))
    assert len(world.starts) == 2
    assert world.sends == []


async def test_a_pull_request_runs_on_its_own_branch(world: World) -> None:
    world.threads.branches[13] = "feature/login"
    await world.run(_mention("ada", "1", number=13, pull=True))
    (started,) = world.starts
    assert started.branch == "feature/login"
    assert started.origin_url == "https://github.com/acme/widgets/pull/13"


async def test_a_sender_without_write_access_is_not_answered(world: World) -> None:
    world.threads.permissions["ada"] = RepositoryPermission.TRIAGE
    await world.run(_mention("ada", "1"))
    assert world.starts == []
    assert world.threads.comments == []
    assert world.threads.reactions == []


async def test_a_sender_without_an_account_is_asked_to_sign_in(world: World) -> None:
    await world.run(_mention("carol", "99"))
    assert world.starts == []
    assert world.threads.reactions == [(12, "c-d-1")]
    ((_, reply),) = world.threads.comments
    assert reply.startswith("@carol ")
    assert "https://maestrist.example/api/auth/login" in reply


async def test_a_user_outside_the_organization_is_told_so(world: World) -> None:
    await world.run(_mention("stranger", "3"))
    assert world.starts == []
    ((_, reply),) = world.threads.comments
    assert "not a member of the organization" in reply


async def test_an_installation_no_organization_linked_answers_nothing(world: World) -> None:
    uow = FakeUnitOfWork(world.store)
    kept = await uow.app_installations.get(GH, "4242")
    assert kept is not None
    await uow.app_installations.put(replace(kept, org_id=None))
    await uow.commit()
    await world.run(_mention("ada", "1"))
    assert world.starts == []
    assert world.threads.comments == []
    assert world.threads.reactions == []


async def test_two_triggers_on_one_issue_at_once_start_one_conversation(world: World) -> None:
    await asyncio.gather(
        world.run(_mention("ada", "1", key="d-1")), world.run(_mention("bob", "2", key="d-2"))
    )
    assert len(world.starts) == 1
    assert len(world.sends) == 1
    assert len(world.store.live.conversations) == 1


async def test_a_refused_installation_token_is_spent_and_the_job_tried_again(
    world: World,
) -> None:
    world.threads.refuse_token = True
    with pytest.raises(DependencyUnavailableError):
        await world.run(_mention("ada", "1"))
    kept = world.store.live.app_installations[GH, "4242"]
    assert kept.token is not None
    assert not kept.token.fresh_at(world.clock.now())
    assert world.starts == []


async def test_a_gitlab_mention_is_answered_with_the_enabling_users_token(world: World) -> None:
    await world.run(_mention("bob", "2", number=7, pull=True, provider=GL))
    (started,) = world.starts
    assert started.actor.user.id_ == world.bob.id_
    assert started.trigger is ConversationTrigger.GITLAB
    assert started.git_provider == "gitlab"
    assert started.origin_url == "https://gitlab.com/acme/widgets/-/merge_requests/7"
    assert started.message is not None
    assert "merge request #7 of acme/widgets" in started.message
    assert {token for _, token in world.opened} == {"glpat-ada"}
    assert world.threads.reactions == [(7, "c-d-1")]
    thread = world.store.live.resolver_threads[GL, REPO, 7]
    assert thread.installation_id == HOOK


async def test_a_repository_no_longer_enabled_answers_nothing(world: World) -> None:
    world.store.live.repository_hooks.clear()
    world.store.commit()
    await world.run(_mention("bob", "2", provider=GL))
    assert world.starts == []
    assert world.opened == []


async def test_a_repository_whose_enabling_user_disconnected_answers_nothing(
    world: World,
) -> None:
    world.store.live.provider_tokens.clear()
    world.store.commit()
    await world.run(_mention("bob", "2", provider=GL))
    assert world.starts == []
    assert world.opened == []


def _waiting(world: World) -> list[Job]:
    return sorted(
        (j for j in world.store.live.jobs.values() if j.kind == "resolver.trigger"),
        key=lambda j: j.payload["waited"],  # type: ignore[arg-type,return-value]
    )


async def test_a_trigger_over_the_repositorys_cap_waits_its_turn_and_then_starts(
    world: World,
) -> None:
    org_id = next(iter(world.store.live.orgs))
    world.store.live.resolver_settings[org_id] = ResolverSettings(
        org_id=org_id, max_runs_per_repository=1
    )
    world.store.commit()
    await world.run(_mention("ada", "1", number=12))
    await world.run(_mention("ada", "1", number=12, key="d-again"))  # same issue: a follow-up
    await world.run(_mention("bob", "2", number=13, key="d-13"))
    assert len(world.starts) == 1
    assert len(world.sends) == 1
    (waiting,) = _waiting(world)
    assert waiting.payload["waited"] == 1
    assert waiting.payload["number"] == 13
    assert waiting.run_at > world.clock.now()
    told = [body for number, body in world.threads.comments if number == 13]
    assert told == [
        (
            "@bob this repository has its 1 run at once going already; I will start as "
            "soon as one of them ends."
        )
    ]
    await world.run(ResolverTrigger.of_job(dict(waiting.payload)))  # still over the cap
    assert [w.payload["waited"] for w in _waiting(world)] == [1, 2]
    assert [body for number, body in world.threads.comments if number == 13] == told  # once
    running = next(iter(world.store.live.conversations.values()))
    running.status = ConversationStatus.FINISHED
    world.store.commit()
    await world.run(ResolverTrigger.of_job(dict(waiting.payload)))
    assert len(world.starts) == 2
    assert world.starts[1].origin_url == "https://github.com/acme/widgets/issues/13"
    assert len(_waiting(world)) == 2  # it did not wait again


async def test_a_trigger_that_waited_half_a_day_gives_up_and_says_so(world: World) -> None:
    org_id = next(iter(world.store.live.orgs))
    world.store.live.resolver_settings[org_id] = ResolverSettings(
        org_id=org_id, max_runs_per_repository=2
    )
    world.store.commit()
    await world.run(_mention("ada", "1", number=12, key="d-12"))
    await world.run(_mention("ada", "1", number=14, key="d-14"))
    patient = replace(_mention("bob", "2", number=13, key="d-13"), waited=MAX_TURNS - 1)
    await world.run(patient)
    (waiting,) = _waiting(world)
    assert waiting.payload["waited"] == MAX_TURNS
    assert [n for n, _ in world.threads.comments].count(13) == 0  # told on its first wait only
    await world.run(ResolverTrigger.of_job(dict(waiting.payload)))
    assert len(world.starts) == 2
    assert [w.payload["waited"] for w in _waiting(world)] == [MAX_TURNS]  # queued no more
    (gave_up,) = [body for number, body in world.threads.comments if number == 13]
    assert gave_up == (
        "@bob I gave up waiting: this repository kept its 2 runs at once going for half a "
        "day. Ask me again once one of them has ended."
    )
    await world.run(_mention("bob", "2", number=13, key="d-13-again"))  # asked again
    assert [w.payload["waited"] for w in _waiting(world)] == [1, MAX_TURNS]


async def test_without_a_cap_triggers_on_one_repository_run_at_once(world: World) -> None:
    for number in (12, 13, 14):
        await world.run(_mention("ada", "1", number=number, key=f"d-{number}"))
    assert len(world.starts) == 3
    assert _waiting(world) == []


async def test_a_self_managed_gitlabs_thread_is_answered_at_its_own_address(
    world: World,
) -> None:
    self_managed = "https://gitlab.acme.example"
    ada_token = next(iter(world.store.live.provider_tokens.values()))
    world.store.live.provider_tokens[ada_token.user_id, GL] = replace(
        ada_token, host=GitHost(GL, self_managed)
    )
    world.store.live.repository_hooks[HOOK].web_url = self_managed
    world.store.commit()
    await world.run(_mention("bob", "2", number=9, provider=GL))
    (started,) = world.starts
    assert started.origin_url == f"{self_managed}/acme/widgets/-/issues/9"
    assert {host for host, _ in world.opened} == {GitHost(GL, self_managed)}


async def test_a_hook_whose_admins_token_is_another_hosts_answers_nothing(
    world: World,
) -> None:
    world.store.live.repository_hooks[HOOK].web_url = "https://gitlab.acme.example"
    world.store.commit()
    await world.run(_mention("bob", "2", provider=GL))
    assert world.starts == []
    assert world.opened == []
