from datetime import timedelta

import pytest

from application.api_keys import (
    CreateApiKey,
    CreateApiKeyRequest,
    ListApiKeys,
    ListApiKeysRequest,
    RevokeApiKey,
    RevokeApiKeyRequest,
)
from application.errors import CredentialNotAllowedError
from application.identity import ApiKeyAuthenticator
from application.identity.principal_cache import PrincipalCache
from application.organizations import ActiveOrgResolver
from application.ports.access_revocations import ApiKeyRevoked
from application.ports.org_repository import MemberOrganization
from domain.audit.entities import AuditAction
from domain.identity.api_keys import ApiKeyId
from domain.identity.errors import ApiKeyNotFoundError, InvalidApiKeyExpiryError
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import Membership, Organization, Role
from domain.organizations.errors import OrgNotFoundError
from domain.shared.errors import PermissionDeniedError
from domain.shared.ids import new_id
from tests.factories import create_org
from tests.unit.application.conftest import World


def _org_of(world: World, actor: Principal, role: Role = Role.OWNER) -> MemberOrganization:
    org, owner = create_org(actor.user)
    world.store.live.orgs[org.id_] = org
    world.store.live.memberships[(org.id_, actor.user.id_)] = Membership(
        org_id=org.id_, user_id=actor.user.id_, role=role, joined_at=owner.joined_at
    )
    world.store.commit()
    return MemberOrganization(organization=org, role=role)


def _create(world: World) -> CreateApiKey:
    return CreateApiKey(world.uow, world.clock)


def _authenticator(world: World) -> ApiKeyAuthenticator:
    return ApiKeyAuthenticator(world.units, world.clock, world.principals)


async def test_a_created_key_authenticates_as_its_owner_in_its_org(world: World) -> None:
    alice = world.principal("alice")
    org = _org_of(world, alice)
    created = await _create(world).execute(
        CreateApiKeyRequest(
            actor=alice, org=org, name="CI", scopes=frozenset({Scope.SETTINGS_READ})
        )
    )
    stored = world.store.committed.api_keys[created.key.id_]
    assert str(created.token) not in repr(stored)
    [event] = world.store.committed.audit
    assert event.action is AuditAction.API_KEY_CREATED
    assert event.org_id == org.organization.id_
    assert str(created.token) not in repr(event)

    principal = await _authenticator(world).authenticate(
        Credentials(authorization=f"Bearer {created.token}")
    )

    assert principal is not None
    assert principal.user.id_ == alice.user.id_
    assert principal.method is AuthMethod.API_KEY
    assert principal.scopes == {Scope.SETTINGS_READ}
    assert principal.bound_org_id == org.organization.id_
    assert principal.credential_id == created.key.id_


async def test_last_use_is_written_at_most_once_a_minute(world: World) -> None:
    alice = world.principal("alice")
    created = await _create(world).execute(
        CreateApiKeyRequest(actor=alice, org=_org_of(world, alice), name="k", scopes=frozenset())
    )
    credentials = Credentials(authorization=f"Bearer {created.token}")
    sut = _authenticator(world)
    commits = world.store.commits
    await sut.authenticate(credentials)
    world.clock.advance(timedelta(seconds=30))
    await sut.authenticate(credentials)
    assert world.store.commits == commits + 1
    first_use = world.store.committed.api_keys[created.key.id_].last_used_at
    world.clock.advance(timedelta(seconds=30))
    await sut.authenticate(credentials)
    assert world.store.commits == commits + 2
    assert world.store.committed.api_keys[created.key.id_].last_used_at == (
        first_use + timedelta(minutes=1)  # type: ignore[operator]
    )


async def test_revoked_expired_and_forged_keys_prove_nobody(world: World) -> None:
    alice = world.principal("alice")
    org = _org_of(world, alice)
    create = _create(world)
    revoked = await create.execute(
        CreateApiKeyRequest(actor=alice, org=org, name="r", scopes=frozenset())
    )
    expiring = await create.execute(
        CreateApiKeyRequest(
            actor=alice,
            org=org,
            name="e",
            scopes=frozenset(),
            expires_at=world.clock.now() + timedelta(hours=1),
        )
    )
    await RevokeApiKey(world.uow, world.clock, world.revocations).execute(
        RevokeApiKeyRequest(actor=alice, key_id=revoked.key.id_)
    )
    world.clock.advance(timedelta(hours=1))
    sut = _authenticator(world)
    forged = f"Bearer {revoked.token.prefix}_{expiring.token.secret}"
    for header in (f"Bearer {revoked.token}", f"Bearer {expiring.token}", forged):
        assert await sut.authenticate(Credentials(authorization=header)) is None


async def test_a_key_proves_nobody_once_its_owner_left_its_org(world: World) -> None:
    """However the membership ended, even with the key itself left unrevoked (the removal's
    revocation is a second line), a key acts only while its owner belongs to its org."""
    alice = world.principal("alice")
    org = _org_of(world, alice)
    created = await _create(world).execute(
        CreateApiKeyRequest(actor=alice, org=org, name="CI", scopes=frozenset())
    )
    sut = _authenticator(world)
    header = Credentials(authorization=f"Bearer {created.token}", reuse_recent=False)
    assert await sut.authenticate(header) is not None
    del world.store.live.memberships[(org.organization.id_, alice.user.id_)]
    world.store.commit()
    assert await sut.authenticate(header) is None


async def test_keys_cannot_mint_keys_or_admin_scopes_beyond_the_role(world: World) -> None:
    alice = world.principal("alice")
    member_org = _org_of(world, alice, Role.MEMBER)
    key_principal = Principal(user=alice.user, method=AuthMethod.API_KEY)
    with pytest.raises(CredentialNotAllowedError):
        await _create(world).execute(
            CreateApiKeyRequest(actor=key_principal, org=member_org, name="k", scopes=frozenset())
        )
    with pytest.raises(PermissionDeniedError):
        await _create(world).execute(
            CreateApiKeyRequest(
                actor=alice, org=member_org, name="k", scopes=frozenset({Scope.ORG_ADMIN})
            )
        )
    assert world.store.committed.api_keys == {}


@pytest.mark.parametrize("days", [0, -1, 367])
async def test_expiry_must_lie_within_a_year(world: World, days: int) -> None:
    alice = world.principal("alice")
    with pytest.raises(InvalidApiKeyExpiryError):
        await _create(world).execute(
            CreateApiKeyRequest(
                actor=alice,
                org=_org_of(world, alice),
                name="k",
                scopes=frozenset(),
                expires_at=world.clock.now() + timedelta(days=days),
            )
        )


async def test_only_the_owner_lists_and_revokes_a_key(world: World) -> None:
    alice, bob = world.principal("alice"), world.principal("bob")
    org = _org_of(world, alice)
    created = await _create(world).execute(
        CreateApiKeyRequest(actor=alice, org=org, name="k", scopes=frozenset())
    )
    revoke = RevokeApiKey(world.uow, world.clock, world.revocations)
    with pytest.raises(ApiKeyNotFoundError):
        await revoke.execute(RevokeApiKeyRequest(actor=bob, key_id=created.key.id_))
    with pytest.raises(ApiKeyNotFoundError):
        await revoke.execute(RevokeApiKeyRequest(actor=alice, key_id=ApiKeyId(new_id())))
    assert (await ListApiKeys(world.uow).execute(ListApiKeysRequest(actor=bob, org=org))).keys == []
    assert world.revocations.published == []
    await revoke.execute(RevokeApiKeyRequest(actor=alice, key_id=created.key.id_))
    await revoke.execute(RevokeApiKeyRequest(actor=alice, key_id=created.key.id_))
    assert world.revocations.published == [ApiKeyRevoked(created.key.id_)]
    [listed] = (await ListApiKeys(world.uow).execute(ListApiKeysRequest(actor=alice, org=org))).keys
    assert listed.revoked_at == world.clock.now()
    actions = [e.action for e in world.store.committed.audit]
    assert actions == [AuditAction.API_KEY_CREATED, AuditAction.API_KEY_REVOKED]


async def test_active_org_is_named_bound_or_personal(world: World) -> None:
    alice, bob = world.principal("alice"), world.principal("bob")
    personal, owner = Organization.personal_for(
        owner=alice.user.id_, display_name="Alice", now=world.clock.now()
    )
    await world.orgs.add(personal, owner)
    team = _org_of(world, alice)
    bobs = _org_of(world, bob)
    sut = ActiveOrgResolver(world.uow, PrincipalCache(world.clock, timedelta(seconds=10)))
    default = await sut.resolve(alice)
    named = await sut.resolve(alice, team.organization.id_)
    assert default.organization.id_ == personal.id_
    assert named.organization.id_ == team.organization.id_
    with pytest.raises(OrgNotFoundError):
        await sut.resolve(alice, bobs.organization.id_)
    key = Principal(user=alice.user, method=AuthMethod.API_KEY, bound_org_id=team.organization.id_)
    assert (await sut.resolve(key)).organization.id_ == team.organization.id_
    with pytest.raises(OrgNotFoundError):
        await sut.resolve(key, personal.id_)
    with pytest.raises(OrgNotFoundError):
        await sut.resolve(bob)
