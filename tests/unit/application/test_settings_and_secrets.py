"""Settings and secrets use cases over the fakes: who may change what, partial updates, and
what the runtime gets opened."""

from datetime import timedelta

import pytest

from application.analytics import ProductAnalytics
from application.ports.org_repository import MemberOrganization
from application.secrets import (
    CreateSecret,
    CreateSecretRequest,
    DeleteSecret,
    DeleteSecretRequest,
    ListSecrets,
    ListSecretsRequest,
    SecretOpener,
    UpdateSecret,
    UpdateSecretRequest,
)
from application.settings import (
    GetOrgSettings,
    GetOrgSettingsRequest,
    GetSettings,
    GetSettingsRequest,
    LlmConfigResolver,
    UpdateOrgSettings,
    UpdateOrgSettingsRequest,
    UpdateSettings,
    UpdateSettingsRequest,
)
from domain.audit.entities import AuditAction
from domain.identity.principals import AuthMethod, Principal
from domain.organizations.entities import Membership, Role
from domain.organizations.errors import NotAnOrgAdminError, OrgNotFoundError
from domain.secrets.errors import (
    InvalidSecretNameError,
    SecretNameTakenError,
    SecretNotFoundError,
)
from domain.settings import InvalidSettingError, SettingField, SettingSource
from tests.factories import create_org
from tests.fakes.analytics import RecordingAnalytics
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.unit.application.conftest import World


def _team(world: World, owner: Principal, **members: tuple[Principal, Role]) -> MemberOrganization:
    org, founder = create_org(owner.user)
    world.store.live.orgs[org.id_] = org
    world.store.live.memberships[(org.id_, owner.user.id_)] = founder
    for member, role in members.values():
        world.store.live.memberships[(org.id_, member.user.id_)] = Membership(
            org_id=org.id_, user_id=member.user.id_, role=role, joined_at=founder.joined_at
        )
    world.store.commit()
    return MemberOrganization(organization=org, role=Role.OWNER)


def _view(org: MemberOrganization, role: Role) -> MemberOrganization:
    return MemberOrganization(organization=org.organization, role=role)


async def test_a_partial_update_changes_only_the_named_fields(world: World) -> None:
    ada = world.principal("ada")
    org = _team(world, ada)
    update = UpdateSettings(world.uow, world.clock, ProductAnalytics(RecordingAnalytics()))
    await update.execute(
        UpdateSettingsRequest(
            actor=ada,
            org=org,
            changes={SettingField.LLM_MODEL: "a/b", SettingField.LLM_API_KEY: "sk-1"},
        )
    )
    world.clock.advance(timedelta(minutes=1))
    view = (
        await update.execute(
            UpdateSettingsRequest(
                actor=ada,
                org=org,
                changes={SettingField.LANGUAGE: "de", SettingField.LLM_MODEL: None},
            )
        )
    ).settings
    assert view.own.llm_model is None
    assert view.own.llm_api_key is not None
    assert view.own.llm_api_key.value == "sk-1"
    assert view.own.language is not None
    assert view.own.language.value == "de"
    assert view.effective.sources[SettingField.LLM_MODEL] is SettingSource.DEFAULT
    stored = world.store.committed.user_settings[ada.user.id_]
    assert stored.updated_at == world.clock.now()


async def test_one_bad_field_stores_nothing(world: World) -> None:
    ada = world.principal("ada")
    org = _team(world, ada)
    update = UpdateSettings(world.uow, world.clock, ProductAnalytics(RecordingAnalytics()))
    with pytest.raises(InvalidSettingError) as refused:
        await update.execute(
            UpdateSettingsRequest(
                actor=ada,
                org=org,
                changes={SettingField.LANGUAGE: "de", SettingField.LLM_BASE_URL: "ftp://x"},
            )
        )
    assert refused.value.field == "llm_base_url"
    assert world.store.committed.user_settings == {}


async def test_members_read_org_defaults_only_managers_change_them(world: World) -> None:
    owner, admin, member, stranger = (world.principal(n) for n in ("o", "a", "m", "s"))
    org = _team(world, owner, a=(admin, Role.ADMIN), m=(member, Role.MEMBER))
    org_id = org.organization.id_
    update = UpdateOrgSettings(world.uow, world.clock)
    read = GetOrgSettings(world.uow)
    changes = {SettingField.MAX_ITERATIONS: 40, SettingField.LLM_API_KEY: "org-key"}

    for manager in (owner, admin):
        saved = await update.execute(
            UpdateOrgSettingsRequest(actor=manager, org_id=org_id, changes=changes)
        )
        assert saved.settings.values.max_iterations is not None
    with pytest.raises(NotAnOrgAdminError):
        await update.execute(UpdateOrgSettingsRequest(actor=member, org_id=org_id, changes={}))
    with pytest.raises(OrgNotFoundError):
        await update.execute(UpdateOrgSettingsRequest(actor=stranger, org_id=org_id, changes={}))
    with pytest.raises(OrgNotFoundError):
        await read.execute(GetOrgSettingsRequest(actor=stranger, org_id=org_id))
    seen = (await read.execute(GetOrgSettingsRequest(actor=member, org_id=org_id))).settings
    assert seen.values.max_iterations is not None
    assert seen.values.max_iterations.value == 40

    view = (
        await GetSettings(world.uow).execute(
            GetSettingsRequest(actor=member, org=_view(org, Role.MEMBER))
        )
    ).settings
    assert view.effective.sources[SettingField.MAX_ITERATIONS] is SettingSource.ORG
    assert view.effective.sources[SettingField.LLM_API_KEY] is SettingSource.ORG

    changed = [
        e for e in world.store.committed.audit if e.action is AuditAction.ORG_SETTINGS_CHANGED
    ]
    assert [(e.actor_id, e.org_id) for e in changed] == [
        (owner.user.id_, org_id),
        (admin.user.id_, org_id),
    ]
    assert changed[0].details == {"fields": "llm_api_key,max_iterations"}
    assert all("org-key" not in repr(e) for e in world.store.committed.audit)


async def test_an_api_key_reaches_only_the_org_it_was_made_in(world: World) -> None:
    ada = world.principal("ada")
    first, second = _team(world, ada), _team(world, ada)
    key = Principal(user=ada.user, method=AuthMethod.API_KEY, bound_org_id=first.organization.id_)
    read = GetOrgSettings(world.uow)
    await read.execute(GetOrgSettingsRequest(actor=key, org_id=first.organization.id_))
    with pytest.raises(OrgNotFoundError):
        await read.execute(GetOrgSettingsRequest(actor=key, org_id=second.organization.id_))


async def test_resolve_llm_config_opens_the_key_for_members_only(world: World) -> None:
    owner, member, stranger = (world.principal(n) for n in ("o", "m", "s"))
    org = _team(world, owner, m=(member, Role.MEMBER))
    org_id = org.organization.id_
    await UpdateOrgSettings(world.uow, world.clock).execute(
        UpdateOrgSettingsRequest(
            actor=owner,
            org_id=org_id,
            changes={
                SettingField.LLM_MODEL: "litellm_proxy/claude",
                SettingField.LLM_API_KEY: "org-key",
                SettingField.LLM_BASE_URL: "https://proxy.example",
            },
        )
    )
    resolve = LlmConfigResolver(FakeUnitOfWork(world.store))
    config = await resolve.resolve(member.user.id_, org_id)
    assert (config.model, config.api_key, config.base_url) == (
        "litellm_proxy/claude",
        "org-key",
        "https://proxy.example",
    )
    assert "org-key" not in repr(config)
    await UpdateSettings(world.uow, world.clock, ProductAnalytics(RecordingAnalytics())).execute(
        UpdateSettingsRequest(
            actor=member,
            org=_view(org, Role.MEMBER),
            changes={SettingField.LLM_BASE_URL: "https://mine.example"},
        )
    )
    mine = await resolve.resolve(member.user.id_, org_id)
    assert (mine.api_key, mine.base_url) == (None, "https://mine.example")
    with pytest.raises(OrgNotFoundError):
        await resolve.resolve(stranger.user.id_, org_id)


async def test_secrets_lifecycle_and_isolation(world: World) -> None:
    ada, bob = world.principal("ada"), world.principal("bob")
    create = CreateSecret(world.uow, world.clock)
    update = UpdateSecret(world.uow, world.clock)
    delete = DeleteSecret(world.uow)

    created = (
        await create.execute(
            CreateSecretRequest(actor=ada, name="OPENAI_KEY", value="sk-1", description="for evals")
        )
    ).secret
    assert "sk-1" not in repr(created)
    with pytest.raises(SecretNameTakenError):
        await create.execute(CreateSecretRequest(actor=ada, name="OPENAI_KEY", value="x"))
    with pytest.raises(InvalidSecretNameError):
        await create.execute(CreateSecretRequest(actor=ada, name="PATH", value="x"))
    await create.execute(CreateSecretRequest(actor=bob, name="OPENAI_KEY", value="sk-bob"))

    world.clock.advance(timedelta(minutes=1))
    kept = (
        await update.execute(UpdateSecretRequest(actor=ada, name="OPENAI_KEY", value="sk-2"))
    ).secret
    assert kept.description == created.description
    assert kept.updated_at > created.updated_at
    cleared = (
        await update.execute(
            UpdateSecretRequest(actor=ada, name="OPENAI_KEY", clear_description=True)
        )
    ).secret
    assert cleared.description is None
    for name in ("MISSING", "not a name"):
        with pytest.raises(SecretNotFoundError):
            await update.execute(UpdateSecretRequest(actor=ada, name=name, value="x"))

    assert await SecretOpener(FakeUnitOfWork(world.store)).open_for(ada.user.id_) == {
        "OPENAI_KEY": "sk-2"
    }
    assert await SecretOpener(FakeUnitOfWork(world.store)).open_for(bob.user.id_) == {
        "OPENAI_KEY": "sk-bob"
    }
    await delete.execute(DeleteSecretRequest(actor=ada, name="OPENAI_KEY"))
    with pytest.raises(SecretNotFoundError):
        await delete.execute(DeleteSecretRequest(actor=ada, name="OPENAI_KEY"))
    listing = ListSecrets(world.uow)
    assert (await listing.execute(ListSecretsRequest(actor=ada))).secrets == ()
    found = (await listing.execute(ListSecretsRequest(actor=bob))).secrets
    assert [s.name.value for s in found] == ["OPENAI_KEY"]
