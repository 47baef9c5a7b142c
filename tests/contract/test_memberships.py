"""The contract of OrgRepository's memberships, UserRepository.find_by_email and key revocation."""

from datetime import timedelta

import pytest

from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import Membership, Role
from domain.organizations.errors import MemberAlreadyExistsError
from tests.backends import OpenPorts
from tests.factories import T0, create_api_key, create_org, create_user


async def test_members_are_listed_owner_first_and_roles_change(open_ports: OpenPorts) -> None:
    owner, zed, amy = create_user("owner"), create_user("zed"), create_user("amy")
    org, founder = create_org(owner)
    async with open_ports() as ports:
        for user in (owner, zed, amy):
            await ports.users.add(user)
        await ports.orgs.add(org, founder)
        for user in (zed, amy):
            await ports.orgs.add_member(
                Membership(org_id=org.id_, user_id=user.id_, role=Role.MEMBER, joined_at=T0)
            )
        await ports.orgs.set_role(org.id_, zed.id_, Role.ADMIN)
        await ports.uow.commit()
    async with open_ports() as ports:
        members = await ports.orgs.list_members(org.id_)
        zeds_view = await ports.orgs.get_for_member(org.id_, zed.id_)
    assert [(m.user.subject, m.role) for m in members] == [
        ("owner", Role.OWNER),
        ("zed", Role.ADMIN),
        ("amy", Role.MEMBER),
    ]
    assert members[2].joined_at == T0
    assert members[2].user.email == amy.email
    assert zeds_view is not None
    assert zeds_view.role is Role.ADMIN


async def test_a_role_changes_in_one_organization_only(open_ports: OpenPorts) -> None:
    """A person in two organizations made admin of one stays a member of the other."""
    ada, bob, zed = create_user("ada"), create_user("bob"), create_user("zed")
    (acme, ada_owns), (other, bob_owns) = create_org(ada), create_org(bob)
    async with open_ports() as ports:
        for user in (ada, bob, zed):
            await ports.users.add(user)
        await ports.orgs.add(acme, ada_owns)
        await ports.orgs.add(other, bob_owns)
        for org in (acme, other):
            await ports.orgs.add_member(
                Membership(org_id=org.id_, user_id=zed.id_, role=Role.MEMBER, joined_at=T0)
            )
        await ports.uow.commit()
    async with open_ports() as ports:
        await ports.orgs.set_role(acme.id_, zed.id_, Role.ADMIN)
        await ports.uow.commit()
    async with open_ports() as ports:
        in_acme = await ports.orgs.get_for_member(acme.id_, zed.id_)
        in_other = await ports.orgs.get_for_member(other.id_, zed.id_)
    assert in_acme is not None
    assert in_other is not None
    assert (in_acme.role, in_other.role) == (Role.ADMIN, Role.MEMBER)


async def test_adding_a_member_twice_is_refused(open_ports: OpenPorts) -> None:
    owner = create_user("owner")
    org, founder = create_org(owner)
    async with open_ports() as ports:
        await ports.users.add(owner)
        await ports.orgs.add(org, founder)
        await ports.uow.commit()
    async with open_ports() as ports:
        with pytest.raises(MemberAlreadyExistsError):
            await ports.orgs.add_member(
                Membership(org_id=org.id_, user_id=owner.id_, role=Role.MEMBER, joined_at=T0)
            )


async def test_removed_members_no_longer_see_the_org(open_ports: OpenPorts) -> None:
    owner, gone = create_user("owner"), create_user("gone")
    org, founder = create_org(owner)
    async with open_ports() as ports:
        await ports.users.add(owner)
        await ports.users.add(gone)
        await ports.orgs.add(org, founder)
        await ports.orgs.add_member(
            Membership(org_id=org.id_, user_id=gone.id_, role=Role.MEMBER, joined_at=T0)
        )
        await ports.uow.commit()
    async with open_ports() as ports:
        await ports.orgs.remove_member(org.id_, gone.id_)
        await ports.orgs.remove_member(org.id_, gone.id_)
        await ports.uow.commit()
    async with open_ports() as ports:
        assert await ports.orgs.get_for_member(org.id_, gone.id_) is None
        assert await ports.orgs.list_for_member(gone.id_) == []
        assert [m.user.id_ for m in await ports.orgs.list_members(org.id_)] == [owner.id_]


async def test_find_by_email_ignores_case_and_prefers_verified(open_ports: OpenPorts) -> None:
    unverified = create_user("first", email="Ada@Example.com")
    unverified.email_verified = False
    verified = create_user("second", email="ada@example.com")
    async with open_ports() as ports:
        await ports.users.add(unverified)
        await ports.users.add(verified)
        await ports.uow.commit()
    async with open_ports() as ports:
        found = await ports.users.find_by_email(EmailAddress("ADA@example.COM"))
        missing = await ports.users.find_by_email(EmailAddress("bob@example.com"))
    assert found is not None
    assert found.id_ == verified.id_
    assert missing is None


async def test_revoke_all_revokes_live_keys_of_one_member_in_one_org(
    open_ports: OpenPorts,
) -> None:
    alice, bob = create_user("alice"), create_user("bob")
    org, founder = create_org(alice)
    other, other_founder = create_org(alice)
    live, _ = create_api_key(alice, org.id_, minutes=1)
    already, _ = create_api_key(alice, org.id_, minutes=2)
    elsewhere, _ = create_api_key(alice, other.id_, minutes=3)
    bobs, _ = create_api_key(bob, org.id_, minutes=4)
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.users.add(bob)
        await ports.orgs.add(org, founder)
        await ports.orgs.add(other, other_founder)
        for key in (live, already.revoked(T0), elsewhere, bobs):
            await ports.api_keys.add(key)
        await ports.uow.commit()
    later = T0 + timedelta(hours=1)
    async with open_ports() as ports:
        assert await ports.api_keys.revoke_all(alice.id_, org.id_, later) == 1
        await ports.uow.commit()
    async with open_ports() as ports:
        after = {
            k.id_: k.revoked_at for k in await ports.api_keys.list_for_user(alice.id_, org.id_)
        }
        [other_key] = await ports.api_keys.list_for_user(alice.id_, other.id_)
        [bobs_key] = await ports.api_keys.list_for_user(bob.id_, org.id_)
    assert after == {live.id_: later, already.id_: T0}
    assert other_key.revoked_at is None
    assert bobs_key.revoked_at is None
