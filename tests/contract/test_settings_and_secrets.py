"""The SettingsStore and SecretStore contracts over the fake, SQLite and PostgreSQL: settings per
user and per organization, secrets per user by name, transactional; the SQL adapters seal the
LLM API key, the MCP configuration and every secret's value and description, each bound to its
row and column."""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from application.errors import DependencyUnavailableError
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.secrets.entities import CustomSecret, SecretDescription, SecretName, SecretValue
from domain.secrets.errors import SecretNameTakenError
from domain.settings.entities import OrgSettings, SettingField, SettingsValues, UserSettings
from domain.settings.errors import SettingsChangedConcurrentlyError
from domain.settings.mcp import McpConfig, McpRemoteServer, McpStdioServer
from tests.backends import Backend, OpenPorts, until_a_transaction_waits
from tests.factories import T0

ODD = "tøkén with 'quotes', %, _, \\ and ünïcødé ✓"


MCP = McpConfig(
    sse_servers=(
        McpRemoteServer(url="https://mcp.example.com/sse"),
        McpRemoteServer(url="https://b.example", api_key=ODD),
    ),
    stdio_servers=(
        McpStdioServer(name="github", command="npx", args=("-y", "srv"), env=(("TOKEN", "ghp_x"),)),
    ),
    shttp_servers=(McpRemoteServer(url="http://127.0.0.1:9000/mcp", timeout=30),),
)


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


async def test_settings_read_back_whole_in_a_later_transaction(
    users: list[UserId], orgs: list[OrgId], open_ports: OpenPorts
) -> None:
    ada, bob = users
    acme, _ = orgs
    mine = UserSettings(user_id=ada, values=_everything(), updated_at=T0)
    defaults = OrgSettings(org_id=acme, values=replace(_everything(), agent=None), updated_at=T0)
    async with open_ports() as ports:
        assert await ports.settings.get_user(ada) is None
        assert await ports.settings.get_org(acme) is None
        await ports.settings.put_user(mine)
        await ports.settings.put_org(defaults)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.settings.get_user(ada) == mine
        assert await ports.settings.get_org(acme) == defaults
        assert await ports.settings.get_user(bob) is None
        assert await ports.settings.get_org(orgs[1]) is None


async def test_put_replaces_and_clears(users: list[UserId], open_ports: OpenPorts) -> None:
    ada = users[0]
    async with open_ports() as ports:
        await ports.settings.put_user(
            UserSettings(user_id=ada, values=_everything(), updated_at=T0)
        )
        await ports.uow.commit()
    later = T0 + timedelta(minutes=5)
    fewer = SettingsValues().changed({SettingField.LANGUAGE: "de"})
    async with open_ports() as ports:
        await ports.settings.put_user(UserSettings(user_id=ada, values=fewer, updated_at=later))
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.settings.get_user(ada) == UserSettings(
            user_id=ada, values=fewer, updated_at=later
        )


async def test_org_defaults_put_again_replace_the_first(
    orgs: list[OrgId], open_ports: OpenPorts
) -> None:
    acme = orgs[0]
    first = OrgSettings(org_id=acme, values=_everything(), updated_at=T0)
    again = OrgSettings(
        org_id=acme,
        values=SettingsValues().changed({SettingField.LANGUAGE: "de"}),
        updated_at=T0 + timedelta(minutes=1),
    )
    for settings in (first, again):
        async with open_ports() as ports:
            await ports.settings.put_org(settings)
            await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.settings.get_org(acme) == again


async def test_uncommitted_settings_are_dropped(
    users: list[UserId], orgs: list[OrgId], open_ports: OpenPorts
) -> None:
    ada = users[0]
    async with open_ports() as ports:
        await ports.settings.put_user(
            UserSettings(user_id=ada, values=_everything(), updated_at=T0)
        )
        await ports.settings.put_org(OrgSettings(org_id=orgs[0], updated_at=T0))
        await ports.uow.rollback()
        assert await ports.settings.get_user(ada) is None
        assert await ports.settings.get_org(orgs[0]) is None


async def test_settings_secrets_are_sealed_and_bound_to_their_row(
    backend: Backend, users: list[UserId], orgs: list[OrgId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    ada, bob = users
    values = _everything()
    async with open_ports() as ports:
        await ports.settings.put_user(UserSettings(user_id=ada, values=values, updated_at=T0))
        await ports.settings.put_user(
            UserSettings(
                user_id=bob,
                values=SettingsValues().changed({SettingField.LLM_API_KEY: "bobs-key"}),
                updated_at=T0,
            )
        )
        await ports.settings.put_org(OrgSettings(org_id=orgs[0], values=values, updated_at=T0))
        await ports.uow.commit()
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
    async with open_ports() as ports:
        assert await ports.settings.get_user(ada) == UserSettings(
            user_id=ada, values=values, updated_at=T0
        )
        with pytest.raises(DependencyUnavailableError):
            await ports.settings.get_user(bob)


async def test_racing_first_saves_are_a_conflict_not_a_crash(
    backend_url: str | None, backend: Backend, users: list[UserId], open_ports: OpenPorts
) -> None:
    if backend_url is None or not backend_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL lets two writers race on one row here")
    ada = users[0]
    settings = UserSettings(user_id=ada, values=_everything(), updated_at=T0)
    async with open_ports() as first, open_ports() as second:
        await first.settings.put_user(settings)
        loser = asyncio.create_task(second.settings.put_user(settings))
        await until_a_transaction_waits(backend)  # the second insert, on the first one's row
        await first.uow.commit()
        with pytest.raises(SettingsChangedConcurrentlyError):
            await loser
    async with open_ports() as ports:
        assert await ports.settings.get_user(ada) == settings


# ---- secrets --------------------------------------------------------------------------------


async def test_secrets_read_back_by_name_per_user(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada, bob = users
    b, a = _secret(ada, "b_TOKEN"), _secret(ada, "A_KEY", minutes=1)
    lower = _secret(ada, "a_key", minutes=2)
    theirs = _secret(bob, "A_KEY")
    async with open_ports() as ports:
        for secret in (b, a, lower, theirs):
            await ports.secrets.add(secret)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.secrets.list_for(ada) == [a, lower, b]
        assert await ports.secrets.list_for(bob) == [theirs]
        assert await ports.secrets.get(ada, SecretName("A_KEY")) == a
        assert await ports.secrets.get(bob, SecretName("b_TOKEN")) is None


async def test_a_taken_name_is_refused_for_that_user_only(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada, bob = users
    async with open_ports() as ports:
        await ports.secrets.add(_secret(ada, "TOKEN"))
        await ports.uow.commit()
    async with open_ports() as ports:
        with pytest.raises(SecretNameTakenError):
            await ports.secrets.add(_secret(ada, "TOKEN", minutes=1))
    async with open_ports() as ports:
        await ports.secrets.add(_secret(bob, "TOKEN"))
        await ports.uow.commit()
    async with open_ports() as ports:
        assert [s.name.value for s in await ports.secrets.list_for(ada)] == ["TOKEN"]


async def test_save_changes_value_description_and_time_only(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada = users[0]
    secret = _secret(ada, "TOKEN")
    async with open_ports() as ports:
        await ports.secrets.add(secret)
        await ports.uow.commit()
    changed = secret.changed(
        value=SecretValue("new value"),
        description=None,
        clear_description=True,
        now=T0 + timedelta(hours=1),
    )
    async with open_ports() as ports:
        await ports.secrets.save(changed)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.secrets.get(ada, secret.name) == changed
        assert changed.created_at == T0


async def test_delete_forgets_only_the_owners_secret(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada, bob = users
    async with open_ports() as ports:
        await ports.secrets.add(_secret(ada, "TOKEN"))
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.secrets.delete(bob, SecretName("TOKEN")) is False
        assert await ports.secrets.delete(ada, SecretName("TOKEN")) is True
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.secrets.list_for(ada) == []
        assert await ports.secrets.delete(ada, SecretName("TOKEN")) is False


async def test_deleting_one_secret_keeps_the_owners_others(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada = users[0]
    async with open_ports() as ports:
        for name in ("ALPHA", "BETA", "GAMMA"):
            await ports.secrets.add(_secret(ada, name))
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.secrets.delete(ada, SecretName("BETA")) is True
        await ports.uow.commit()
    async with open_ports() as ports:
        assert [s.name.value for s in await ports.secrets.list_for(ada)] == ["ALPHA", "GAMMA"]


async def test_a_secret_saved_under_another_users_id_is_refused_and_theirs_kept(
    users: list[UserId], open_ports: OpenPorts
) -> None:
    ada, bob = users
    bobs = _secret(bob, "TOKEN")
    async with open_ports() as ports:
        await ports.secrets.add(bobs)
        await ports.uow.commit()
    # Ada's secret carrying the id of Bob's row: saving it must not overwrite Bob's.
    forged = replace(bobs, user_id=ada, value=SecretValue("ada's value"))
    async with open_ports() as ports:
        with pytest.raises(LookupError):
            await ports.secrets.save(forged)
        await ports.uow.rollback()
    async with open_ports() as ports:
        assert await ports.secrets.get(bob, bobs.name) == bobs
        assert await ports.secrets.list_for(ada) == []


async def test_uncommitted_secrets_are_dropped(users: list[UserId], open_ports: OpenPorts) -> None:
    ada = users[0]
    kept = _secret(ada, "KEPT")
    async with open_ports() as ports:
        await ports.secrets.add(kept)
        await ports.uow.commit()
    async with open_ports() as ports:
        await ports.secrets.add(_secret(ada, "DROPPED"))
        await ports.secrets.delete(ada, kept.name)
        await ports.uow.rollback()
        assert await ports.secrets.list_for(ada) == [kept]


async def test_secret_values_and_descriptions_are_sealed_and_bound(
    backend: Backend, users: list[UserId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext")
    ada = users[0]
    first, second = _secret(ada, "FIRST"), _secret(ada, "SECOND")
    async with open_ports() as ports:
        await ports.secrets.add(first)
        await ports.secrets.add(second)
        await ports.uow.commit()
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
    async with open_ports() as ports:
        assert await ports.secrets.get(ada, first.name) == first
        with pytest.raises(DependencyUnavailableError):
            await ports.secrets.get(ada, second.name)


async def test_a_users_mcp_config_copied_to_an_org_row_does_not_open_there(
    backend: Backend, users: list[UserId], orgs: list[OrgId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext to copy")
    ada = users[0]
    values = _everything()
    async with open_ports() as ports:
        await ports.settings.put_user(UserSettings(user_id=ada, values=values, updated_at=T0))
        await ports.settings.put_org(OrgSettings(org_id=orgs[0], values=values, updated_at=T0))
        await ports.uow.commit()
    async with backend.execute(
        "UPDATE org_settings SET mcp_config = (SELECT mcp_config FROM user_settings)"
    ):
        pass
    async with open_ports() as ports:
        assert await ports.settings.get_user(ada) == UserSettings(
            user_id=ada, values=values, updated_at=T0
        )
        with pytest.raises(DependencyUnavailableError):
            await ports.settings.get_org(orgs[0])


async def test_a_secret_copied_to_another_users_secret_does_not_open_there(
    backend: Backend, users: list[UserId], open_ports: OpenPorts
) -> None:
    if backend.execute is None:
        pytest.skip("the fake keeps no ciphertext to copy")
    ada, bob = users
    adas, bobs = _secret(ada, "ADAS"), _secret(bob, "BOBS")
    async with open_ports() as ports:
        await ports.secrets.add(adas)
        await ports.secrets.add(bobs)
        await ports.uow.commit()
    async with backend.execute(
        "UPDATE custom_secrets SET description = (SELECT c.description FROM custom_secrets c "
        "WHERE c.name = 'ADAS') WHERE name = 'BOBS'"
    ):
        pass
    async with open_ports() as ports:
        assert await ports.secrets.get(ada, adas.name) == adas
        with pytest.raises(DependencyUnavailableError):
            await ports.secrets.get(bob, bobs.name)
