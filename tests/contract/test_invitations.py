"""The InvitationRepository contract over the fake, SQLite and PostgreSQL: scoped by
organization, one open invitation per organization and address whatever its case,
transactional."""

from datetime import timedelta

import pytest

from domain.conversations.entities import Tenant
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import InvitationAlreadyPendingError
from domain.organizations.invitations import Invitation, InvitationId
from domain.shared.ids import new_id
from tests.backends import OpenPorts
from tests.factories import T0


def _invite(
    tenants: list[Tenant], email: str, *, org: int = 0, minutes: int = 0, role: Role = Role.MEMBER
) -> Invitation:
    """An invitation from the owner of the ``org``-th tenant's organization."""
    return Invitation.issue(
        org_id=tenants[org].org_id,
        email=EmailAddress(email),
        role=role,
        invited_by=tenants[org].user_id,
        now=T0 + timedelta(minutes=minutes),
    )


def _fields(
    invitation: Invitation | None,
) -> tuple[object, ...] | None:
    if invitation is None:
        return None
    return (
        invitation.id_,
        invitation.org_id,
        invitation.email,
        invitation.role,
        invitation.invited_by,
        invitation.created_at,
        invitation.expires_at,
        invitation.accepted_at,
        invitation.revoked_at,
    )


async def _add(open_ports: OpenPorts, *invitations: Invitation) -> None:
    async with open_ports() as ports:
        for invitation in invitations:
            await ports.invitations.add(invitation)
        await ports.uow.commit()


def _ids(invitations: list[Invitation]) -> list[InvitationId]:
    return [i.id_ for i in invitations]


async def test_an_invitation_reads_back_whole_in_its_org_only(
    orgs: list[OrgId], tenants: list[Tenant], open_ports: OpenPorts
) -> None:
    sut = _invite(tenants, "O'Brien+ünï@Example.COM", role=Role.ADMIN)
    await _add(open_ports, sut)
    async with open_ports() as ports:
        assert _fields(await ports.invitations.get(orgs[0], sut.id_)) == _fields(sut)
        assert await ports.invitations.get(orgs[1], sut.id_) is None
        assert await ports.invitations.get(orgs[0], InvitationId(new_id())) is None
        found = await ports.invitations.find_open(orgs[0], EmailAddress("o'brien+ÜNÏ@example.com"))
        assert _fields(found) == _fields(sut)
        assert await ports.invitations.find_open(orgs[1], sut.email) is None


async def test_one_open_invitation_per_org_and_address_whatever_its_case(
    orgs: list[OrgId], tenants: list[Tenant], open_ports: OpenPorts
) -> None:
    first = _invite(tenants, "ada@example.com")
    await _add(open_ports, first, _invite(tenants, "ada@example.com", org=1))
    async with open_ports() as ports:
        with pytest.raises(InvitationAlreadyPendingError):
            await ports.invitations.add(_invite(tenants, "ADA@example.com", minutes=1))
    async with open_ports() as ports:
        stored = await ports.invitations.get(orgs[0], first.id_)
        assert stored is not None
        stored.revoke(T0 + timedelta(minutes=2))
        await ports.invitations.save(stored)
        again = _invite(tenants, "Ada@example.com", minutes=3)
        await ports.invitations.add(again)
        await ports.uow.commit()
    async with open_ports() as ports:
        found = await ports.invitations.find_open(orgs[0], EmailAddress("ada@example.com"))
        assert _fields(found) == _fields(again)


async def test_open_lists_are_ordered_and_leave_closed_ones_out(
    orgs: list[OrgId], tenants: list[Tenant], open_ports: OpenPorts
) -> None:
    old = _invite(tenants, "a@example.com", minutes=1)
    new = _invite(tenants, "b@example.com", minutes=2)
    accepted = _invite(tenants, "c@example.com", minutes=3)
    elsewhere = _invite(tenants, "A@example.com", org=1, minutes=0)
    await _add(open_ports, old, new, accepted, elsewhere)
    async with open_ports() as ports:
        accepted.accept(T0 + timedelta(minutes=4))
        await ports.invitations.save(accepted)
        await ports.uow.commit()
    later = T0 + timedelta(days=30)
    async with open_ports() as ports:
        listed = await ports.invitations.list_open(orgs[0])
        for_a = await ports.invitations.list_open_for_email(EmailAddress("a@EXAMPLE.com"))
        for_c = await ports.invitations.list_open_for_email(EmailAddress("c@example.com"))
    assert _ids(listed) == [new.id_, old.id_]
    assert all(i.status(later).value == "expired" for i in listed)
    assert _ids(for_a) == [elsewhere.id_, old.id_]
    assert for_c == []


async def test_uncommitted_changes_are_dropped(
    orgs: list[OrgId], tenants: list[Tenant], open_ports: OpenPorts
) -> None:
    sut = _invite(tenants, "a@example.com")
    await _add(open_ports, sut)
    async with open_ports() as ports:
        sut.accept(T0 + timedelta(minutes=1))
        await ports.invitations.save(sut)
        await ports.invitations.add(_invite(tenants, "b@example.com"))
    async with open_ports() as ports:
        stored = await ports.invitations.get(orgs[0], sut.id_)
        assert stored is not None
        assert stored.accepted_at is None
        assert _ids(await ports.invitations.list_open(orgs[0])) == [sut.id_]


async def test_saving_an_invitation_never_added_is_a_bug(
    tenants: list[Tenant], open_ports: OpenPorts
) -> None:
    async with open_ports() as ports:
        with pytest.raises(LookupError):
            await ports.invitations.save(_invite(tenants, "a@example.com"))
