"""The contract of ApiKeyRepository and of OrgRepository's personal organizations."""

from datetime import timedelta

import pytest

from domain.identity.api_keys import ApiKeyId
from domain.identity.scopes import Scope
from domain.organizations.entities import Organization
from domain.organizations.errors import PersonalOrgExistsError
from domain.shared.ids import new_id
from tests.backends import OpenPorts
from tests.factories import T0, create_api_key, create_org, create_user


async def test_personal_org_is_found_for_its_owner_only(open_ports: OpenPorts) -> None:
    alice, bob = create_user("alice"), create_user("bob")
    personal = Organization.personal_for(owner=alice.id_, display_name="Alice", now=T0)
    team = create_org(alice, "Team")
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.users.add(bob)
        await ports.orgs.add(*personal)
        await ports.orgs.add(*team)
        await ports.uow.commit()
    async with open_ports() as ports:
        found = await ports.orgs.get_personal(alice.id_)
        assert await ports.orgs.get_personal(bob.id_) is None
        listed = await ports.orgs.list_for_member(alice.id_)
    assert found is not None
    assert found.organization.id_ == personal[0].id_
    assert found.organization.personal_owner == alice.id_
    assert found.organization.is_personal
    assert {v.organization.is_personal for v in listed} == {True, False}


async def test_a_second_personal_org_is_refused(open_ports: OpenPorts) -> None:
    alice = create_user("alice")
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.orgs.add(*Organization.personal_for(owner=alice.id_, display_name="A", now=T0))
        await ports.uow.commit()
    async with open_ports() as ports:
        with pytest.raises(PersonalOrgExistsError):
            await ports.orgs.add(
                *Organization.personal_for(owner=alice.id_, display_name="A", now=T0)
            )


async def test_api_keys_read_back_and_list_per_user_and_org(open_ports: OpenPorts) -> None:
    alice, bob = create_user("alice"), create_user("bob")
    org, membership = create_org(alice)
    other, other_membership = create_org(alice)
    older, _ = create_api_key(alice, org.id_, scopes=frozenset({Scope.SECRETS_READ}), minutes=1)
    newer, _ = create_api_key(alice, org.id_, minutes=2, expires_at=T0 + timedelta(days=30))
    elsewhere, _ = create_api_key(alice, other.id_, minutes=3)
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.users.add(bob)
        await ports.orgs.add(org, membership)
        await ports.orgs.add(other, other_membership)
        for key in (older, newer, elsewhere):
            await ports.api_keys.add(key)
        await ports.uow.commit()
    async with open_ports() as ports:
        listed = await ports.api_keys.list_for_user(alice.id_, org.id_)
        by_lookup = await ports.api_keys.get_by_lookup(older.lookup)
        mine = await ports.api_keys.get_for_user(older.id_, alice.id_)
        not_bobs = await ports.api_keys.get_for_user(older.id_, bob.id_)
        missing = await ports.api_keys.get_for_user(ApiKeyId(new_id()), alice.id_)
        assert await ports.api_keys.list_for_user(bob.id_, org.id_) == []
        assert await ports.api_keys.get_by_lookup("nope") is None
    assert [k.id_ for k in listed] == [newer.id_, older.id_]
    assert listed[0].expires_at == newer.expires_at
    assert by_lookup == older
    assert mine == older
    assert not_bobs is None
    assert missing is None


async def test_saving_a_key_stores_revocation_and_last_use(open_ports: OpenPorts) -> None:
    alice = create_user("alice")
    org, membership = create_org(alice)
    key, _ = create_api_key(alice, org.id_)
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.orgs.add(org, membership)
        await ports.api_keys.add(key)
        await ports.uow.commit()
    used = T0 + timedelta(minutes=5)
    async with open_ports() as ports:
        await ports.api_keys.save(key.touched(used).revoked(used + timedelta(minutes=1)))
        await ports.uow.commit()
    async with open_ports() as ports:
        stored = await ports.api_keys.get_by_lookup(key.lookup)
    assert stored is not None
    assert stored.last_used_at == used
    assert stored.revoked_at == used + timedelta(minutes=1)
    assert stored.name == key.name
    assert stored.secret_hash == key.secret_hash
