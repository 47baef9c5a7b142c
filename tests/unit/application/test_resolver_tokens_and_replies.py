"""Installation tokens minted once across racing callers and cached until shortly before they
expire; a resolver conversation's end enqueues its summary once per run; pull requests are
read from what the agent said."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from application.conversations.callbacks import StateChange
from application.ports.git_app import GitApp, GitApps, IssueThreads, RepositoryHooks
from application.resolver import (
    POST_SUMMARY,
    InstallationTokens,
    ResolverReply,
    pull_request_urls,
)
from domain.conversations.entities import (
    CallbackId,
    CallbackStatus,
    ConversationStatus,
    EventCallback,
    Tenant,
)
from domain.git.providers import GitHost, ProviderKind
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.resolver.entities import AppInstallation, InstallationToken
from domain.shared.ids import new_id
from tests.contract.test_conversation_store import conversation
from tests.fakes import FakeStore
from tests.fakes.clock import FakeClock
from tests.fakes.locks import FakeLocks
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork

GH = ProviderKind.GITHUB


@dataclass
class CountingApp(GitApp):
    clock: FakeClock
    minted: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def mint_token(self, installation_id: str) -> InstallationToken:
        await self.gate.wait()
        self.minted.append(installation_id)
        return InstallationToken(
            token=f"ghs_{len(self.minted)}", expires_at=self.clock.now() + timedelta(hours=1)
        )


@dataclass
class Apps(GitApps):
    github: CountingApp

    def app(self, provider: ProviderKind) -> GitApp | None:
        return self.github if provider is GH else None

    def threads(self, host: GitHost, token: str) -> IssueThreads:
        raise AssertionError("not called")

    def hooks(self, host: GitHost, token: str) -> RepositoryHooks:
        raise AssertionError("not called")


async def _installed(store: FakeStore, clock: FakeClock) -> AppInstallation:
    installation = AppInstallation(
        provider=GH,
        installation_id="4242",
        account_login="acme",
        account_type="Organization",
        updated_at=clock.now(),
    )
    uow = FakeUnitOfWork(store)
    await uow.app_installations.put(installation)
    await uow.commit()
    return installation


async def _kept(store: FakeStore) -> AppInstallation:
    found = await FakeUnitOfWork(store).app_installations.get(GH, "4242")
    assert found is not None
    return found


async def test_racing_callers_mint_one_token_and_reuse_it_until_it_nearly_expires() -> None:
    store, clock, locks = FakeStore(), FakeClock(), FakeLocks()
    app = CountingApp(clock)
    sut = InstallationTokens(FakeUnitsOfWork(store), Apps(app), locks, clock)
    installation = await _installed(store, clock)
    racing = [asyncio.create_task(sut.token_for(installation)) for _ in range(5)]
    await asyncio.sleep(0)
    app.gate.set()
    tokens = await asyncio.gather(*racing)
    assert tokens == ["ghs_1"] * 5
    assert app.minted == ["4242"]
    assert locks.max_holding == 1
    cached = await _kept(store)
    assert cached.token is not None
    assert cached.token.token == "ghs_1"
    clock.advance(timedelta(minutes=54))
    assert await sut.token_for(await _kept(store)) == "ghs_1"
    clock.advance(timedelta(minutes=1, seconds=1))
    assert await sut.token_for(await _kept(store)) == "ghs_2"
    assert app.minted == ["4242", "4242"]


async def test_a_caller_holding_a_stale_copy_takes_the_token_another_cached() -> None:
    store, clock = FakeStore(), FakeClock()
    app = CountingApp(clock)
    app.gate.set()
    sut = InstallationTokens(FakeUnitsOfWork(store), Apps(app), FakeLocks(), clock)
    stale = await _installed(store, clock)
    assert await sut.token_for(stale) == "ghs_1"
    assert await sut.token_for(stale) == "ghs_1"  # read again under the lock: no new mint
    assert app.minted == ["4242"]


async def test_a_refused_token_is_discarded_and_the_next_caller_mints_another() -> None:
    store, clock = FakeStore(), FakeClock()
    app = CountingApp(clock)
    app.gate.set()
    sut = InstallationTokens(FakeUnitsOfWork(store), Apps(app), FakeLocks(), clock)
    installation = await _installed(store, clock)
    assert await sut.token_for(installation) == "ghs_1"
    await sut.discard(installation, "ghs_other")  # another caller's, replaced already
    assert await sut.token_for(await _kept(store)) == "ghs_1"
    await sut.discard(installation, "ghs_1")
    assert await sut.token_for(await _kept(store)) == "ghs_2"
    assert app.minted == ["4242", "4242"]


def _change(
    tx: FakeUnitOfWork, status: ConversationStatus, previous: ConversationStatus
) -> StateChange:
    tenant = Tenant(OrgId(new_id()), UserId(new_id()))
    return StateChange(
        conversation=conversation(tenant, status=status),
        previous=previous,
        at=FakeClock().now(),
        events=[],
        tx=tx,
        message_text=lambda _: None,
    )


async def test_each_run_that_ends_enqueues_one_summary() -> None:
    store = FakeStore()
    tx = FakeUnitOfWork(store)
    sut = ResolverReply()
    callback = EventCallback(
        id_=CallbackId(new_id()),
        conversation_id=conversation(Tenant(OrgId(new_id()), UserId(new_id()))).id_,
        processor=sut.name,
        updated_at=FakeClock().now(),
    )
    running, finished = ConversationStatus.RUNNING, ConversationStatus.FINISHED
    await sut.on_state_change(callback, _change(tx, running, ConversationStatus.STARTING))
    await sut.on_state_change(callback, _change(tx, finished, running))
    await sut.on_state_change(callback, _change(tx, finished, finished))
    await sut.on_state_change(callback, _change(tx, running, finished))
    await sut.on_state_change(callback, _change(tx, ConversationStatus.ERROR, running))
    await tx.commit()
    runs = [str(job.payload["run"]) for job in store.live.jobs.values() if job.kind == POST_SUMMARY]
    assert sorted(runs) == ["1", "2"]  # one summary for each run, none for the echo
    assert callback.state == {"runs": 2}
    assert callback.status is CallbackStatus.ACTIVE


def test_the_pull_requests_of_the_repository_are_read_from_the_summary() -> None:
    text = (
        "Opened https://github.com/acme/widgets/pull/13 and https://github.com/acme/widgets/pull/13"
        " (again), see also https://github.com/acme/gears/pull/2 and "
        "https://github.com/acme/widgets/pull/140."
    )
    assert pull_request_urls(text, "https://github.com", "acme/widgets") == [
        "https://github.com/acme/widgets/pull/13",
        "https://github.com/acme/widgets/pull/140",
    ]
    assert pull_request_urls("no pull requests", "https://github.com", "acme/widgets") == []
