"""The resolver's stores, on the fake, SQLite and PostgreSQL alike: installations kept in step
with their sealed token cached by compare-and-set, one thread per issue, and one user per
provider account."""

import asyncio
from datetime import timedelta

import pytest

from application.ports.conversation_repository import ConversationFilter
from domain.conversations.entities import Tenant
from domain.conversations.value_objects import ConversationId
from domain.git.providers import ProviderKind
from domain.resolver.entities import (
    AppInstallation,
    GitIdentity,
    InstallationToken,
    ResolverSettings,
    ResolverThread,
)
from domain.resolver.triggers import ConversationTrigger, ThreadRef
from tests.backends import Backend, OpenPorts
from tests.contract.test_conversation_store import conversation
from tests.factories import T0, create_user

GH = ProviderKind.GITHUB


def _installation(**changes: object) -> AppInstallation:
    values: dict[str, object] = {
        "provider": GH,
        "installation_id": "4242",
        "account_login": "acme",
        "account_type": "Organization",
        "repositories": ("acme/widgets",),
        "updated_at": T0,
        **changes,
    }
    return AppInstallation(**values)  # type: ignore[arg-type]


async def test_an_installation_is_kept_linked_and_removed(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    org = tenants[0].org_id
    async with open_ports() as ports:
        await ports.uow.app_installations.put(_installation())
        await ports.uow.app_installations.put(_installation(installation_id="7", account_login="b"))
        await ports.uow.commit()
    async with open_ports() as ports:
        kept = await ports.uow.app_installations.get(GH, "4242")
        assert kept == _installation()
        assert await ports.uow.app_installations.get(ProviderKind.GITLAB, "4242") is None
        assert kept is not None
        linked = kept.linked_to(org, T0 + timedelta(minutes=1))
        await ports.uow.app_installations.put(
            linked.with_repositories(("acme/gears",), ("acme/widgets",), T0)
        )
        await ports.uow.commit()
    async with open_ports() as ports:
        listed = await ports.uow.app_installations.list_for_org(org)
        assert [(i.installation_id, i.repositories, i.org_id) for i in listed] == [
            ("4242", ("acme/gears",), org)
        ]
        assert await ports.uow.app_installations.delete(GH, "4242")
        assert not await ports.uow.app_installations.delete(GH, "4242")
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.app_installations.get(GH, "4242") is None
        assert await ports.uow.app_installations.list_for_org(org) == []


async def test_a_token_is_cached_only_over_the_one_read(open_ports: OpenPorts) -> None:
    first = InstallationToken(token="ghs_first", expires_at=T0 + timedelta(hours=1))
    second = InstallationToken(token="ghs_second", expires_at=T0 + timedelta(hours=2))
    async with open_ports() as ports:
        assert not await ports.uow.app_installations.store_token(GH, "4242", first, replacing=None)
        await ports.uow.app_installations.put(_installation())
        assert await ports.uow.app_installations.store_token(GH, "4242", first, replacing=None)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert not await ports.uow.app_installations.store_token(GH, "4242", second, replacing=None)
        assert not await ports.uow.app_installations.store_token(GH, "4242", second, replacing=T0)
        assert await ports.uow.app_installations.store_token(
            GH, "4242", second, replacing=first.expires_at
        )
        await ports.uow.app_installations.put(_installation(account_login="acme-renamed"))
        await ports.uow.commit()
    async with open_ports() as ports:
        kept = await ports.uow.app_installations.get(GH, "4242")
    assert kept is not None
    assert kept.token == second
    assert kept.account_login == "acme-renamed"


async def test_two_servers_caching_a_token_at_once_keep_one(open_ports: OpenPorts) -> None:
    async with open_ports() as ports:
        await ports.uow.app_installations.put(_installation())
        await ports.uow.commit()

    async def cache(name: str) -> bool:
        async with open_ports() as ports:
            token = InstallationToken(token=name, expires_at=T0 + timedelta(hours=1))
            stored = await ports.uow.app_installations.store_token(
                GH, "4242", token, replacing=None
            )
            await ports.uow.commit()
            return stored

    results = await asyncio.gather(cache("ghs_a"), cache("ghs_b"))
    assert sorted(results) == [False, True]
    async with open_ports() as ports:
        kept = await ports.uow.app_installations.get(GH, "4242")
    assert kept is not None
    assert kept.token is not None
    assert kept.token.token == ("ghs_a" if results[0] else "ghs_b")


async def test_the_token_is_sealed_at_rest(backend: Backend) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    async with backend.open() as ports:
        await ports.uow.app_installations.put(_installation())
        token = InstallationToken(token="ghs_secret_value", expires_at=T0 + timedelta(hours=1))
        await ports.uow.app_installations.store_token(GH, "4242", token, replacing=None)
        await ports.uow.commit()
    async with backend.execute("SELECT token FROM app_installations") as rows:
        assert rows
        assert "ghs_secret_value" not in str(rows[0][0])


async def _thread(open_ports: OpenPorts, tenant: Tenant, ref: ThreadRef) -> ResolverThread:
    started = conversation(tenant, trigger=ConversationTrigger.GITHUB)
    async with open_ports() as ports:
        await ports.uow.conversations.add(started)
        await ports.uow.commit()
    return ResolverThread(
        thread=ref,
        org_id=tenant.org_id,
        user_id=tenant.user_id,
        installation_id="4242",
        conversation_id=ConversationId(started.id_),
        last_trigger="webhook:github:d-1",
        created_at=T0,
        updated_at=T0,
    )


async def test_an_issue_has_one_thread_whatever_the_case_of_its_repository(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    ref = ThreadRef(provider=GH, repository="Acme/Widgets", number=12)
    thread = await _thread(open_ports, tenants[0], ref)
    other = await _thread(open_ports, tenants[0], ref)
    async with open_ports() as ports:
        assert await ports.uow.resolver_threads.add(thread)
        assert not await ports.uow.resolver_threads.add(
            ResolverThread(
                **{
                    **vars(other),
                    "thread": ThreadRef(provider=GH, repository="acme/widgets", number=12),
                }
            )
        )
        await ports.uow.commit()
    async with open_ports() as ports:
        found = await ports.uow.resolver_threads.get(
            ThreadRef(provider=GH, repository="ACME/widgets", number=12)
        )
        by_conversation = await ports.uow.resolver_threads.for_conversation(thread.conversation_id)
        assert (
            await ports.uow.resolver_threads.get(
                ThreadRef(provider=GH, repository="acme/widgets", number=13)
            )
            is None
        )
        assert await ports.uow.resolver_threads.for_conversation(other.conversation_id) is None
    assert found is not None
    assert by_conversation is not None
    assert found.conversation_id == thread.conversation_id == by_conversation.conversation_id
    assert found.thread.repository == "Acme/Widgets"


async def test_a_thread_keeps_what_changed_and_can_be_forgotten(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    ref = ThreadRef(provider=GH, repository="acme/widgets", number=3, is_pull_request=True)
    thread = await _thread(open_ports, tenants[0], ref)
    async with open_ports() as ports:
        await ports.uow.resolver_threads.add(thread)
        await ports.uow.commit()
    thread.acknowledged = True
    thread.summaries_posted = 2
    thread.last_trigger = "webhook:github:d-2"
    thread.pull_requests = ("https://github.com/acme/widgets/pull/4",)
    thread.updated_at = T0 + timedelta(minutes=5)
    async with open_ports() as ports:
        await ports.uow.resolver_threads.save(thread)
        await ports.uow.commit()
    async with open_ports() as ports:
        found = await ports.uow.resolver_threads.get(ref)
        assert found is not None
        assert (found.acknowledged, found.summaries_posted, found.last_trigger) == (
            True,
            2,
            "webhook:github:d-2",
        )
        assert found.pull_requests == thread.pull_requests
        assert found.thread.is_pull_request
        assert found.updated_at == T0 + timedelta(minutes=5)
        assert await ports.uow.resolver_threads.delete(ref)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.resolver_threads.get(ref) is None
        assert not await ports.uow.resolver_threads.delete(ref)


async def test_an_account_is_one_users_and_a_user_has_one_account(
    open_ports: OpenPorts,
) -> None:
    ada, bob = create_user(), create_user()
    async with open_ports() as ports:
        await ports.users.add(ada)
        await ports.users.add(bob)
        await ports.uow.git_identities.link(
            GitIdentity(user_id=ada.id_, provider=GH, account_id="1", login="ada", linked_at=T0)
        )
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.git_identities.user_of(GH, "1") == ada.id_
        assert await ports.uow.git_identities.user_of(ProviderKind.GITLAB, "1") is None
        await ports.uow.git_identities.link(
            GitIdentity(user_id=bob.id_, provider=GH, account_id="1", login="ada", linked_at=T0)
        )
        await ports.uow.git_identities.link(
            GitIdentity(user_id=ada.id_, provider=GH, account_id="2", login="ada2", linked_at=T0)
        )
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.git_identities.user_of(GH, "1") == bob.id_
        assert await ports.uow.git_identities.user_of(GH, "2") == ada.id_
        mine = await ports.uow.git_identities.of_user(ada.id_, GH)
        assert mine is not None
        assert (mine.account_id, mine.login) == ("2", "ada2")
        assert await ports.uow.git_identities.of_user(ada.id_, ProviderKind.GITLAB) is None


async def test_a_conversation_keeps_where_it_came_from_and_lists_by_it(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    mine = tenants[0]
    issue = "https://github.com/acme/widgets/issues/12"
    from_github = conversation(mine, trigger=ConversationTrigger.GITHUB, origin_url=issue)
    from_api = conversation(mine, trigger=ConversationTrigger.API)
    from_web = conversation(mine)
    async with open_ports() as ports:
        for each in (from_github, from_api, from_web):
            await ports.uow.conversations.add(each)
        await ports.uow.commit()
    from_github.pull_requests = ("https://github.com/acme/widgets/pull/13",)
    async with open_ports() as ports:
        await ports.uow.conversations.save(from_github)
        await ports.uow.commit()
    async with open_ports() as ports:
        found = await ports.uow.conversations.get(mine, from_github.id_)
        github = await ports.uow.conversations.search(
            mine, ConversationFilter(triggers=frozenset({ConversationTrigger.GITHUB}))
        )
        either = await ports.uow.conversations.search(
            mine,
            ConversationFilter(
                triggers=frozenset({ConversationTrigger.GITHUB, ConversationTrigger.WEB})
            ),
        )
    assert found is not None
    assert (found.trigger, found.origin_url, found.pull_requests) == (
        ConversationTrigger.GITHUB,
        issue,
        ("https://github.com/acme/widgets/pull/13",),
    )
    assert [c.id_ for c in github.items] == [from_github.id_]
    assert {c.id_ for c in either.items} == {from_github.id_, from_web.id_}


async def test_a_repositorys_threads_are_listed_oldest_first_in_any_case(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    added = []
    for number, minutes, repository in ((7, 2, "Acme/Widgets"), (3, 1, "acme/widgets")):
        thread = await _thread(
            open_ports, tenants[0], ThreadRef(provider=GH, repository=repository, number=number)
        )
        thread.created_at = T0 + timedelta(minutes=minutes)
        added.append(thread)
    elsewhere = await _thread(
        open_ports, tenants[0], ThreadRef(provider=GH, repository="acme/gears", number=1)
    )
    on_gitlab = await _thread(
        open_ports,
        tenants[0],
        ThreadRef(provider=ProviderKind.GITLAB, repository="acme/widgets", number=1),
    )
    async with open_ports() as ports:
        for thread in (*added, elsewhere, on_gitlab):
            assert await ports.uow.resolver_threads.add(thread)
        await ports.uow.commit()
    async with open_ports() as ports:
        listed = await ports.uow.resolver_threads.list_for_repository(GH, "ACME/widgets")
        assert [t.thread.number for t in listed] == [3, 7]
        assert await ports.uow.resolver_threads.list_for_repository(GH, "acme/none") == []


async def test_an_organizations_resolver_settings_are_kept_and_replaced(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    org = tenants[0].org_id
    first = ResolverSettings(
        org_id=org, label="fix-me", handle="@acme-bot", max_runs_per_repository=2, updated_at=T0
    )
    async with open_ports() as ports:
        assert await ports.uow.resolver_settings.get(org) is None
        await ports.uow.resolver_settings.put(first)
        await ports.uow.commit()
    cleared = ResolverSettings(org_id=org, updated_at=T0 + timedelta(minutes=1))
    async with open_ports() as ports:
        assert await ports.uow.resolver_settings.get(org) == first
        assert await ports.uow.resolver_settings.get(tenants[1].org_id) is None
        await ports.uow.resolver_settings.put(cleared)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.resolver_settings.get(org) == cleared
