"""The repositories the resolver is enabled on at GitLab and Bitbucket, on the fake, SQLite and
PostgreSQL alike: one hook per repository and web address (in any case), found by its path
for a delivery, its secret sealed at rest."""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.conversations.entities import Tenant
from domain.git.providers import ProviderKind
from domain.resolver.entities import RepositoryHook
from tests.backends import Backend, OpenPorts
from tests.factories import T0

GL = ProviderKind.GITLAB
BB = ProviderKind.BITBUCKET


def _hook(tenant: Tenant, **changes: object) -> RepositoryHook:
    values: dict[str, object] = {
        "id_": "0190d0a0-0000-7000-8000-000000000001",
        "provider": GL,
        "web_url": "https://gitlab.com",
        "repository": "Acme/Platform/Widgets",
        "org_id": tenant.org_id,
        "enabled_by": tenant.user_id,
        "secret": "the-hook-secret",
        "created_at": T0,
        "updated_at": T0,
        **changes,
    }
    return RepositoryHook(**values)  # type: ignore[arg-type]


async def test_a_repository_is_enabled_once_and_found_by_its_path(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    first, other = tenants
    hook = _hook(first)
    async with open_ports() as ports:
        assert await ports.uow.repository_hooks.add(hook)
        taken = _hook(
            other, id_="0190d0a0-0000-7000-8000-000000000002", repository="acme/platform/widgets"
        )
        assert not await ports.uow.repository_hooks.add(taken)
        elsewhere = _hook(
            other,
            id_="0190d0a0-0000-7000-8000-000000000003",
            web_url="https://gitlab.acme.example",
        )
        assert await ports.uow.repository_hooks.add(elsewhere)
        bitbucket = _hook(
            first,
            id_="0190d0a0-0000-7000-8000-000000000004",
            provider=BB,
            web_url="https://bitbucket.org",
            repository="acme/widgets",
            managed=False,
        )
        assert await ports.uow.repository_hooks.add(bitbucket)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.repository_hooks.get(hook.id_) == hook
        found = await ports.uow.repository_hooks.for_repository(GL, "ACME/platform/widgets")
        assert [h.id_ for h in found] == [elsewhere.id_, hook.id_]  # by web address
        assert await ports.uow.repository_hooks.for_repository(BB, "acme/platform/widgets") == []
        assert [h.id_ for h in await ports.uow.repository_hooks.list_for_org(first.org_id)] == [
            bitbucket.id_,
            hook.id_,
        ]
        assert [h.id_ for h in await ports.uow.repository_hooks.list_for_org(other.org_id)] == [
            elsewhere.id_
        ]


async def test_a_hook_keeps_its_id_at_the_provider_and_can_be_removed(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    hook = _hook(tenants[0])
    async with open_ports() as ports:
        await ports.uow.repository_hooks.add(hook)
        await ports.uow.commit()
    installed = replace(hook, hook_id="77", updated_at=T0 + timedelta(minutes=1))
    async with open_ports() as ports:
        await ports.uow.repository_hooks.save(installed)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.repository_hooks.get(hook.id_) == installed
        assert await ports.uow.repository_hooks.delete(hook.id_)
        assert not await ports.uow.repository_hooks.delete(hook.id_)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.uow.repository_hooks.get(hook.id_) is None
        assert await ports.uow.repository_hooks.for_repository(GL, hook.repository) == []


async def test_two_admins_enabling_one_repository_at_once_keep_one(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    async def enable(tenant: Tenant, id_: str) -> bool:
        async with open_ports() as ports:
            added = await ports.uow.repository_hooks.add(_hook(tenant, id_=id_))
            await ports.uow.commit()
            return added

    results = await asyncio.gather(
        enable(tenants[0], "0190d0a0-0000-7000-8000-00000000000a"),
        enable(tenants[1], "0190d0a0-0000-7000-8000-00000000000b"),
    )
    assert sorted(results) == [False, True]
    async with open_ports() as ports:
        assert (
            len(await ports.uow.repository_hooks.for_repository(GL, "acme/platform/widgets")) == 1
        )


async def test_the_secret_is_sealed_at_rest(backend: Backend, tenants: list[Tenant]) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    async with backend.open() as ports:
        await ports.uow.repository_hooks.add(_hook(tenants[0]))
        await ports.uow.commit()
    async with backend.execute("SELECT secret FROM repository_hooks") as rows:
        assert rows
        assert "the-hook-secret" not in str(rows[0][0])


async def test_a_groups_hook_serves_the_projects_under_it(
    open_ports: OpenPorts, tenants: list[Tenant]
) -> None:
    group = _hook(
        tenants[0],
        id_="0190d0a0-0000-7000-8000-0000000000g1",
        repository="Acme/Platform",
        group=True,
    )
    async with open_ports() as ports:
        assert await ports.uow.repository_hooks.add(group)
        await ports.uow.commit()
    async with open_ports() as ports:
        hooks = ports.uow.repository_hooks
        assert await hooks.get(group.id_) == group
        assert [h.id_ for h in await hooks.for_repository(GL, "acme/platform/widgets")] == [
            group.id_
        ]
        assert [h.id_ for h in await hooks.for_repository(GL, "acme/platform/deep/gears")] == [
            group.id_
        ]
        assert await hooks.for_repository(GL, "acme/platform") == [group]
        assert await hooks.for_repository(GL, "acme/platformer/widgets") == []
        assert await hooks.for_repository(GL, "acme/widgets") == []
