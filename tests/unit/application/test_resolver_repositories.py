"""Enabling and disabling the resolver on GitLab and Bitbucket repositories over the fakes:
owners and admins only, in their own organization, one hook per repository; the job that
installs the webhook with the admin's token, and leaves none behind when the repository was
disabled meanwhile."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from application.git.provider_tokens import ProviderTokenPolicy, ProviderTokens
from application.ports.git_app import GitApp, GitApps, IssueThreads, RepositoryHooks
from application.resolver import (
    INSTALL_HOOK,
    REMOVE_HOOK,
    DisableResolverRepository,
    DisableResolverRepositoryRequest,
    EnableResolverRepository,
    EnableResolverRepositoryRequest,
    InstallRepositoryHook,
    ListResolverRepositories,
    RemoveRepositoryHook,
    ResolverLinks,
)
from domain.git.entities import ProviderToken
from domain.git.errors import ProviderNotConnectedError
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import User
from domain.identity.principals import AuthMethod, Principal
from domain.jobs.entities import Job, JobStatus
from domain.organizations.entities import Membership, OrgId, Role
from domain.organizations.errors import NotAnOrgAdminError, OrgNotFoundError
from domain.resolver.entities import RepositoryHookNotFoundError, RepositoryHookTakenError
from domain.shared.errors import InvalidValueError
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeStore
from tests.fakes.clock import FakeClock
from tests.fakes.locks import FakeLocks
from tests.fakes.metrics import FakeMetrics
from tests.fakes.provider_oauth import FakeProviderOAuth
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork

GL = ProviderKind.GITLAB
LINKS = ResolverLinks(
    public_url="https://maestrist.example",
    host_urls={GL: "https://gitlab.com", ProviderKind.BITBUCKET: "https://bitbucket.org"},
)


@dataclass
class Hooks(RepositoryHooks):
    installed: list[tuple[str, str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    on_install: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    groups: list[bool] = field(default_factory=list)

    async def install(self, repository: str, url: str, secret: str, *, group: bool) -> str:
        self.installed.append((repository, url, secret))
        self.groups.append(group)
        for hook in self.on_install:
            await hook()
        return str(len(self.installed))

    async def find(self, repository: str, url: str, *, group: bool) -> str | None:
        found = [i for i, (r, u, _) in enumerate(self.installed) if (r, u) == (repository, url)]
        gone = {hook_id for r, hook_id in self.removed if r == repository}
        alive = [str(i + 1) for i in found if str(i + 1) not in gone]
        return alive[0] if alive else None

    async def remove(self, repository: str, hook_id: str, *, group: bool) -> None:
        self.removed.append((repository, hook_id))


@dataclass
class Apps(GitApps):
    hooks_: Hooks
    tokens: list[str] = field(default_factory=list)

    def app(self, provider: ProviderKind) -> GitApp | None:
        return None

    def threads(self, host: GitHost, token: str) -> IssueThreads:
        raise AssertionError("not called")

    def hooks(self, host: GitHost, token: str) -> RepositoryHooks:
        self.tokens.append(token)
        return self.hooks_


@dataclass
class World:
    store: FakeStore
    clock: FakeClock
    org: OrgId
    ada: User
    bob: User
    eve: User
    hooks: Hooks = field(default_factory=Hooks)

    def actor(self, user: User) -> Principal:
        return Principal(user=user, method=AuthMethod.SESSION)

    def provider_tokens(self) -> ProviderTokens:
        units = FakeUnitsOfWork(self.store)
        return ProviderTokens(
            units,
            FakeProviderOAuth(self.clock),
            FakeLocks(),
            self.clock,
            ProviderTokenPolicy(),
            FakeMetrics(),
        )

    async def enable(self, user: User, repository: str = "acme/widgets", **kw: object) -> str:
        uow = FakeUnitOfWork(self.store)
        enabled = await EnableResolverRepository(uow, self.clock, LINKS).execute(
            EnableResolverRepositoryRequest(
                actor=self.actor(user),
                org_id=self.org,
                provider=str(kw.get("provider", "gitlab")),
                repository=repository,
                install=bool(kw.get("install", True)),
            )
        )
        return enabled.hook.id_

    async def run(self, kind: str, apps: Apps | None = None) -> None:
        jobs = [j for j in self.store.live.jobs.values() if j.kind == kind]
        for new in jobs:
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
            uow = FakeUnitOfWork(self.store)
            apps = apps or Apps(self.hooks)
            if kind == INSTALL_HOOK:
                await InstallRepositoryHook(
                    uow, self.clock, apps, self.provider_tokens(), LINKS
                ).handle(job)
            else:
                await RemoveRepositoryHook(apps, self.provider_tokens()).handle(job)
            await uow.rollback()


@pytest.fixture
async def world() -> World:
    store, clock = FakeStore(), FakeClock(T0)
    ada, bob, eve = create_user(), create_user(), create_user()
    org, founder = create_org(ada)
    other, other_founder = create_org(eve)
    uow = FakeUnitOfWork(store)
    for user in (ada, bob, eve):
        await uow.users.add(user)
    await uow.orgs.add(org, founder)
    await uow.orgs.add(other, other_founder)
    await uow.orgs.add_member(
        Membership(org_id=org.id_, user_id=bob.id_, role=Role.MEMBER, joined_at=T0)
    )
    for user in (ada, bob, eve):
        await uow.provider_tokens.put(
            ProviderToken(
                user_id=user.id_,
                host=GitHost(GL),
                access_token=f"glpat-{user.id_}",
                refresh_token=None,
                expires_at=None,
                scopes="api",
                updated_at=T0,
            )
        )
    await uow.commit()
    return World(store, clock, org.id_, ada, bob, eve)


async def test_an_admin_enables_a_repository_and_a_job_installs_its_webhook(world: World) -> None:
    hook_id = await world.enable(world.ada)
    kept = world.store.committed.repository_hooks[hook_id]
    assert (kept.web_url, kept.repository, kept.enabled_by) == (
        "https://gitlab.com",
        "acme/widgets",
        world.ada.id_,
    )
    assert len(kept.secret) >= 32
    apps = Apps(world.hooks)
    await world.run(INSTALL_HOOK, apps)
    assert world.hooks.installed == [
        ("acme/widgets", "https://maestrist.example/api/webhooks/gitlab", kept.secret)
    ]
    assert apps.tokens == [f"glpat-{world.ada.id_}"]
    assert world.store.committed.repository_hooks[hook_id].hook_id == "1"
    await world.run(INSTALL_HOOK)  # again: installed already
    assert len(world.hooks.installed) == 1
    with pytest.raises(RepositoryHookTakenError):
        await world.enable(world.ada, "ACME/Widgets")
    uow = FakeUnitOfWork(world.store)
    listed = await ListResolverRepositories(uow).execute(world.actor(world.ada), world.org)
    assert [h.id_ for h in listed] == [hook_id]


async def test_only_the_organizations_admins_enable_and_only_in_it(world: World) -> None:
    with pytest.raises(NotAnOrgAdminError):
        await world.enable(world.bob)
    with pytest.raises(OrgNotFoundError):
        await world.enable(world.eve)
    with pytest.raises(InvalidValueError) as github:
        await world.enable(world.ada, provider="github")
    assert github.value.field == "provider"
    with pytest.raises(InvalidValueError) as nested:
        await world.enable(world.ada, "a/b/c", provider="bitbucket")
    assert nested.value.field == "repository"
    world.store.live.provider_tokens.clear()
    world.store.commit()
    with pytest.raises(ProviderNotConnectedError):
        await world.enable(world.ada)
    assert world.store.committed.repository_hooks == {}


async def test_disabling_removes_the_installed_webhook_and_refuses_other_tenants(
    world: World,
) -> None:
    hook_id = await world.enable(world.ada)
    await world.run(INSTALL_HOOK)
    uow = FakeUnitOfWork(world.store)
    with pytest.raises(OrgNotFoundError):
        await DisableResolverRepository(uow, world.clock).execute(
            DisableResolverRepositoryRequest(
                actor=world.actor(world.eve), org_id=world.org, hook_id=hook_id
            )
        )
    await DisableResolverRepository(FakeUnitOfWork(world.store), world.clock).execute(
        DisableResolverRepositoryRequest(
            actor=world.actor(world.ada), org_id=world.org, hook_id=hook_id
        )
    )
    assert world.store.committed.repository_hooks == {}
    await world.run(REMOVE_HOOK)
    assert world.hooks.removed == [("acme/widgets", "1")]
    with pytest.raises(RepositoryHookNotFoundError):
        await DisableResolverRepository(FakeUnitOfWork(world.store), world.clock).execute(
            DisableResolverRepositoryRequest(
                actor=world.actor(world.ada), org_id=world.org, hook_id=hook_id
            )
        )


async def test_a_repository_disabled_while_its_webhook_was_installed_keeps_none(
    world: World,
) -> None:
    hook_id = await world.enable(world.ada)

    async def disable() -> None:
        await DisableResolverRepository(FakeUnitOfWork(world.store), world.clock).execute(
            DisableResolverRepositoryRequest(
                actor=world.actor(world.ada), org_id=world.org, hook_id=hook_id
            )
        )

    world.hooks.on_install.append(disable)
    await world.run(INSTALL_HOOK)
    assert len(world.hooks.installed) == 1
    assert world.hooks.removed == [("acme/widgets", "1")]
    assert world.store.committed.repository_hooks == {}


async def test_a_webhook_registered_by_hand_is_never_installed_nor_removed(world: World) -> None:
    hook_id = await world.enable(world.ada, install=False)
    assert [j.kind for j in world.store.committed.jobs.values()] == []
    await DisableResolverRepository(FakeUnitOfWork(world.store), world.clock).execute(
        DisableResolverRepositoryRequest(
            actor=world.actor(world.ada), org_id=world.org, hook_id=hook_id
        )
    )
    assert [j.kind for j in world.store.committed.jobs.values()] == []


async def test_a_gitlab_group_is_enabled_and_its_webhook_is_the_groups(world: World) -> None:
    uow = FakeUnitOfWork(world.store)
    enabled = await EnableResolverRepository(uow, world.clock, LINKS).execute(
        EnableResolverRepositoryRequest(
            actor=world.actor(world.ada),
            org_id=world.org,
            provider="gitlab",
            repository="acme",
            group=True,
        )
    )
    assert enabled.hook.group
    await world.run(INSTALL_HOOK)
    assert [r for r, _, _ in world.hooks.installed] == ["acme"]
    assert world.hooks.groups == [True]
    with pytest.raises(InvalidValueError) as bitbucket:
        await EnableResolverRepository(FakeUnitOfWork(world.store), world.clock, LINKS).execute(
            EnableResolverRepositoryRequest(
                actor=world.actor(world.ada),
                org_id=world.org,
                provider="bitbucket",
                repository="acme",
                group=True,
            )
        )
    assert bitbucket.value.field == "group"


async def test_an_install_cut_off_before_its_id_was_kept_is_found_not_made_twice(
    world: World,
) -> None:
    hook_id = await world.enable(world.ada)

    async def die() -> None:
        raise WorkerDiedError

    world.hooks.on_install.append(die)
    with pytest.raises(WorkerDiedError):
        await world.run(INSTALL_HOOK)
    assert world.store.committed.repository_hooks[hook_id].hook_id is None
    world.hooks.on_install.clear()
    await world.run(INSTALL_HOOK)
    assert len(world.hooks.installed) == 1
    assert world.store.committed.repository_hooks[hook_id].hook_id == "1"


class WorkerDiedError(Exception):
    pass
