"""The SettingsStore and SecretStore contracts over the fake, SQLite and PostgreSQL: settings per
user and per organization, secrets per user by name, transactional; the SQL adapters seal the
LLM API key, the MCP configuration and every secret's value and description, each bound to its
row and column."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import (
    SqlaOrgRepository,
    SqlaSecretStore,
    SqlaSettingsStore,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from application.errors import DependencyUnavailableError
from application.ports.secret_store import SecretStore
from application.ports.settings_store import SettingsStore
from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.secrets.entities import CustomSecret, SecretDescription, SecretName, SecretValue
from domain.secrets.errors import SecretNameTakenError
from domain.settings.entities import OrgSettings, SettingField, SettingsValues, UserSettings
from domain.settings.errors import SettingsChangedConcurrentlyError
from tests.db import TEST_CIPHER
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeSecretStore, FakeSettingsStore, FakeStore, FakeUnitOfWork

ODD = "tøkén with 'quotes', %, _, \\ and ünïcødé ✓"


@dataclass(frozen=True, slots=True)
class Tx:
    settings: SettingsStore
    secrets: SecretStore
    uow: UnitOfWork


@dataclass(frozen=True, slots=True)
class Backend:
    open: Callable[[], AbstractAsyncContextManager[Tx]]
    """One transaction; uncommitted work is dropped on exit."""
    users: list[UserId]
    orgs: list[OrgId]
    execute: Callable[[str], AbstractAsyncContextManager[list[tuple[object, ...]]]] | None = None
    """Run SQL past the adapters and commit (SQL backends only)."""


@asynccontextmanager
async def _fake() -> AsyncIterator[Backend]:
    store = FakeStore()
    users = [create_user() for _ in range(2)]
    orgs = [create_org(user)[0] for user in users]
    for user, org in zip(users, orgs, strict=True):
        store.live.users[user.id_] = user
        store.live.orgs[org.id_] = org
    store.commit()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Tx]:
        yield Tx(FakeSettingsStore(store), FakeSecretStore(store), FakeUnitOfWork(store))
        store.rollback()

    yield Backend(open_, [u.id_ for u in users], [o.id_ for o in orgs])


@asynccontextmanager
async def _sqla(url: str) -> AsyncIterator[Backend]:
    engine = create_database_engine(url, pool_size=2, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    users = [create_user() for _ in range(2)]
    orgs = [create_org(user) for user in users]
    async with sessions() as session:
        for user, org in zip(users, orgs, strict=True):
            await SqlaUserRepository(session).add(user)
            await SqlaOrgRepository(session).add(*org)
        await session.commit()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Tx]:
        async with sessions() as session:
            yield Tx(
                SqlaSettingsStore(session, TEST_CIPHER),
                SqlaSecretStore(session, TEST_CIPHER),
                SqlaUnitOfWork(session, TEST_CIPHER),
            )

    @asynccontextmanager
    async def execute(sql: str) -> AsyncIterator[list[tuple[object, ...]]]:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql))
            yield [tuple(row) for row in result] if result.returns_rows else []

    try:
        yield Backend(open_, [u.id_ for u in users], [o.id_ for o, _ in orgs], execute)
    finally:
        await engine.dispose()


@pytest.fixture
async def backend(backend_url: str | None) -> AsyncIterator[Backend]:
    """``backend_url`` (tests/contract/conftest.py): None for the fake, else a migrated DB."""
    opened = _fake() if backend_url is None else _sqla(backend_url)
    async with opened as backend:
        yield backend


MCP = {
    "sse_servers": ["https://mcp.example.com/sse", {"url": "https://b.example", "api_key": ODD}],
    "stdio_servers": [
        {"name": "github", "command": "npx", "args": ["-y", "srv"], "env": {"TOKEN": "ghp_x"}}
    ],
    "shttp_servers": [{"url": "http://127.0.0.1:9000/mcp", "timeout": 30}],
}


def _everything() -> SettingsValues:
    raw: dict[SettingField, object] = {
        SettingField.LLM_MODEL: "anthropic/claude-sonnet-4",
        SettingField.LLM_API_KEY: "sk-" + ODD.replace(" ", "-"),
        SettingField.LLM_BASE_URL: "https://llm.example.com/v1",
        SettingField.AGENT: "CodeActAgent",
        SettingField.MAX_ITERATIONS: 120,
        SettingField.CONFIRMATION_MODE: True,
        SettingField.LANGUAGE: "pt-BR",
        SettingField.MAX_BUDGET_PER_TASK: 2.75,
        SettingField.ANALYTICS_CONSENT: False,
        SettingField.GIT_AUTHOR_NAME: "Ada Lovelace",
        SettingField.GIT_AUTHOR_EMAIL: "ada@example.com",
        SettingField.MCP_CONFIG: MCP,
    }
    return SettingsValues().changed(raw)


def _secret(user_id: UserId, name: str, *, minutes: int = 0) -> CustomSecret:
    return CustomSecret.create(
        user_id=user_id,
        name=SecretName(name),
        value=SecretValue(f"{ODD} {name}"),
        description=SecretDescription(f"what {name} is for"),
        now=T0 + timedelta(minutes=minutes),
    )


# ---- settings -------------------------------------------------------------------------------


async def test_settings_read_back_whole_in_a_later_transaction(backend: Backend) -> None:
    ada, bob = backend.users
    acme, _ = backend.orgs
    mine = UserSettings(user_id=ada, values=_everything(), updated_at=T0)
    defaults = OrgSettings(org_id=acme, values=replace(_everything(), agent=None), updated_at=T0)
    async with backend.open() as tx:
        assert await tx.settings.get_user(ada) is None
        assert await tx.settings.get_org(acme) is None
        await tx.settings.put_user(mine)
        await tx.settings.put_org(defaults)
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.settings.get_user(ada) == mine
        assert await tx.settings.get_org(acme) == defaults
        assert await tx.settings.get_user(bob) is None
        assert await tx.settings.get_org(backend.orgs[1]) is None


async def test_put_replaces_and_clears(backend: Backend) -> None:
    ada = backend.users[0]
    async with backend.open() as tx:
        await tx.settings.put_user(UserSettings(user_id=ada, values=_everything(), updated_at=T0))
        await tx.uow.commit()
    later = T0 + timedelta(minutes=5)
    fewer = SettingsValues().changed({SettingField.LANGUAGE: "de"})
    async with backend.open() as tx:
        await tx.settings.put_user(UserSettings(user_id=ada, values=fewer, updated_at=later))
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.settings.get_user(ada) == UserSettings(
            user_id=ada, values=fewer, updated_at=later
        )


async def test_uncommitted_settings_are_dropped(backend: Backend) -> None:
    ada = backend.users[0]
    async with backend.open() as tx:
        await tx.settings.put_user(UserSettings(user_id=ada, values=_everything(), updated_at=T0))
        await tx.settings.put_org(OrgSettings(org_id=backend.orgs[0], updated_at=T0))
        await tx.uow.rollback()
        assert await tx.settings.get_user(ada) is None
        assert await tx.settings.get_org(backend.orgs[0]) is None


async def test_settings_secrets_are_sealed_and_bound_to_their_row(backend: Backend) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    ada, bob = backend.users
    values = _everything()
    async with backend.open() as tx:
        await tx.settings.put_user(UserSettings(user_id=ada, values=values, updated_at=T0))
        await tx.settings.put_user(
            UserSettings(
                user_id=bob,
                values=SettingsValues().changed({SettingField.LLM_API_KEY: "bobs-key"}),
                updated_at=T0,
            )
        )
        await tx.settings.put_org(OrgSettings(org_id=backend.orgs[0], values=values, updated_at=T0))
        await tx.uow.commit()
    async with backend.execute(
        "SELECT llm_api_key, mcp_config FROM user_settings UNION ALL "
        "SELECT llm_api_key, mcp_config FROM org_settings"
    ) as rows:
        stored = [str(v) for row in rows for v in row if v is not None]
    assert len(stored) == 5
    assert values.llm_api_key is not None
    for value in stored:
        assert value.startswith("v1.test.")
        for secret in (values.llm_api_key.value, "ghp_x", ODD, "bobs-key"):
            assert secret not in value
    async with backend.execute(
        "UPDATE user_settings SET llm_api_key = (SELECT llm_api_key FROM user_settings "
        "WHERE llm_model IS NOT NULL) WHERE llm_model IS NULL"  # ada's key onto bob's row
    ):
        pass
    async with backend.open() as tx:
        assert await tx.settings.get_user(ada) == UserSettings(
            user_id=ada, values=values, updated_at=T0
        )
        with pytest.raises(DependencyUnavailableError):
            await tx.settings.get_user(bob)


async def test_racing_first_saves_are_a_conflict_not_a_crash(
    backend: Backend, backend_url: str | None
) -> None:
    if backend_url is None or not backend_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL lets two writers race on one row here")
    ada = backend.users[0]
    settings = UserSettings(user_id=ada, values=_everything(), updated_at=T0)
    async with backend.open() as first, backend.open() as second:
        await first.settings.put_user(settings)
        loser = asyncio.create_task(second.settings.put_user(settings))
        await asyncio.sleep(0.3)  # the second insert waits on the first one's row
        await first.uow.commit()
        with pytest.raises(SettingsChangedConcurrentlyError):
            await loser
    async with backend.open() as tx:
        assert await tx.settings.get_user(ada) == settings


# ---- secrets --------------------------------------------------------------------------------


async def test_secrets_read_back_by_name_per_user(backend: Backend) -> None:
    ada, bob = backend.users
    b, a = _secret(ada, "b_TOKEN"), _secret(ada, "A_KEY", minutes=1)
    lower = _secret(ada, "a_key", minutes=2)
    theirs = _secret(bob, "A_KEY")
    async with backend.open() as tx:
        for secret in (b, a, lower, theirs):
            await tx.secrets.add(secret)
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.secrets.list_for(ada) == [a, lower, b]
        assert await tx.secrets.list_for(bob) == [theirs]
        assert await tx.secrets.get(ada, SecretName("A_KEY")) == a
        assert await tx.secrets.get(bob, SecretName("b_TOKEN")) is None


async def test_a_taken_name_is_refused_for_that_user_only(backend: Backend) -> None:
    ada, bob = backend.users
    async with backend.open() as tx:
        await tx.secrets.add(_secret(ada, "TOKEN"))
        await tx.uow.commit()
    async with backend.open() as tx:
        with pytest.raises(SecretNameTakenError):
            await tx.secrets.add(_secret(ada, "TOKEN", minutes=1))
    async with backend.open() as tx:
        await tx.secrets.add(_secret(bob, "TOKEN"))
        await tx.uow.commit()
    async with backend.open() as tx:
        assert [s.name.value for s in await tx.secrets.list_for(ada)] == ["TOKEN"]


async def test_save_changes_value_description_and_time_only(backend: Backend) -> None:
    ada = backend.users[0]
    secret = _secret(ada, "TOKEN")
    async with backend.open() as tx:
        await tx.secrets.add(secret)
        await tx.uow.commit()
    changed = secret.changed(
        value=SecretValue("new value"),
        description=None,
        clear_description=True,
        now=T0 + timedelta(hours=1),
    )
    async with backend.open() as tx:
        await tx.secrets.save(changed)
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.secrets.get(ada, secret.name) == changed
        assert changed.created_at == T0


async def test_delete_forgets_only_the_owners_secret(backend: Backend) -> None:
    ada, bob = backend.users
    async with backend.open() as tx:
        await tx.secrets.add(_secret(ada, "TOKEN"))
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.secrets.delete(bob, SecretName("TOKEN")) is False
        assert await tx.secrets.delete(ada, SecretName("TOKEN")) is True
        await tx.uow.commit()
    async with backend.open() as tx:
        assert await tx.secrets.list_for(ada) == []
        assert await tx.secrets.delete(ada, SecretName("TOKEN")) is False


async def test_uncommitted_secrets_are_dropped(backend: Backend) -> None:
    ada = backend.users[0]
    kept = _secret(ada, "KEPT")
    async with backend.open() as tx:
        await tx.secrets.add(kept)
        await tx.uow.commit()
    async with backend.open() as tx:
        await tx.secrets.add(_secret(ada, "DROPPED"))
        await tx.secrets.delete(ada, kept.name)
        await tx.uow.rollback()
        assert await tx.secrets.list_for(ada) == [kept]


async def test_secret_values_and_descriptions_are_sealed_and_bound(backend: Backend) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    ada = backend.users[0]
    first, second = _secret(ada, "FIRST"), _secret(ada, "SECOND")
    async with backend.open() as tx:
        await tx.secrets.add(first)
        await tx.secrets.add(second)
        await tx.uow.commit()
    async with backend.execute("SELECT name, value, description FROM custom_secrets") as rows:
        assert sorted(str(row[0]) for row in rows) == ["FIRST", "SECOND"]
        for _, value, description in rows:
            for sealed in (str(value), str(description)):
                assert sealed.startswith("v1.test.")
                assert ODD not in sealed
                assert "what" not in sealed
    async with backend.execute(
        "UPDATE custom_secrets SET value = "
        "(SELECT value FROM custom_secrets WHERE name = 'FIRST') WHERE name = 'SECOND'"
    ):
        pass
    async with backend.open() as tx:
        assert await tx.secrets.get(ada, first.name) == first
        with pytest.raises(DependencyUnavailableError):
            await tx.secrets.get(ada, second.name)
