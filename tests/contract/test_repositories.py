"""The contract every UserRepository, OrgRepository, AuditLog and UnitOfWork keeps."""

import pytest

from application.ports.audit_log import AuditCursor
from domain.audit.entities import AuditEvent
from domain.identity.entities import UserId
from domain.identity.errors import UserSubjectTakenError
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import OrgSlugTakenError
from domain.shared.ids import new_id
from tests.backends import OpenPorts
from tests.factories import create_audit_event, create_org, create_user


async def test_committed_user_reads_back_by_id_and_subject(open_ports: OpenPorts) -> None:
    user = create_user("alice")
    async with open_ports() as ports:
        await ports.users.add(user)
        await ports.uow.commit()
    async with open_ports() as ports:
        by_id = await ports.users.get(user.id_)
        by_subject = await ports.users.get_by_subject("alice")
    assert by_id is not None
    assert by_subject is not None
    for found in (by_id, by_subject):
        assert found.id_ == user.id_
        assert found.email == user.email
        assert found.display_name == user.display_name
        assert found.email_verified is True
        assert found.created_at == user.created_at


async def test_unknown_user_is_none(open_ports: OpenPorts) -> None:
    async with open_ports() as ports:
        assert await ports.users.get(UserId(new_id())) is None
        assert await ports.users.get_by_subject("nobody") is None


async def test_second_user_with_same_subject_is_refused(open_ports: OpenPorts) -> None:
    async with open_ports() as ports:
        await ports.users.add(create_user("alice"))
        await ports.uow.commit()
    async with open_ports() as ports:
        with pytest.raises(UserSubjectTakenError):
            await ports.users.add(create_user("alice"))


async def test_rollback_drops_staged_work(open_ports: OpenPorts) -> None:
    user = create_user("bob")
    async with open_ports() as ports:
        await ports.users.add(user)
        await ports.uow.rollback()
    async with open_ports() as ports:
        assert await ports.users.get(user.id_) is None


async def test_work_never_committed_is_not_kept(open_ports: OpenPorts) -> None:
    user = create_user("carol")
    async with open_ports() as ports:
        await ports.users.add(user)
    async with open_ports() as ports:
        assert await ports.users.get(user.id_) is None


async def test_org_is_visible_to_its_owner_only(open_ports: OpenPorts) -> None:
    owner, stranger = create_user("owner"), create_user("stranger")
    org, membership = create_org(owner, "Acme", "acme")
    async with open_ports() as ports:
        await ports.users.add(owner)
        await ports.users.add(stranger)
        await ports.orgs.add(org, membership)
        await ports.uow.commit()
    async with open_ports() as ports:
        seen = await ports.orgs.get_for_member(org.id_, owner.id_)
        hidden = await ports.orgs.get_for_member(org.id_, stranger.id_)
        missing = await ports.orgs.get_for_member(OrgId(new_id()), owner.id_)
        strangers_list = await ports.orgs.list_for_member(stranger.id_)
    assert seen is not None
    assert seen.role is Role.OWNER
    assert seen.organization.id_ == org.id_
    assert seen.organization.name == org.name
    assert seen.organization.slug == org.slug
    assert seen.organization.created_by == owner.id_
    assert seen.organization.created_at == org.created_at
    assert hidden is None
    assert missing is None
    assert strangers_list == []


async def test_member_lists_own_orgs_by_name(open_ports: OpenPorts) -> None:
    alice, bob = create_user("alice"), create_user("bob")
    zeta = create_org(alice, "Zeta")
    alpha = create_org(alice, "Alpha")
    bobs = create_org(bob, "Bobs")
    async with open_ports() as ports:
        await ports.users.add(alice)
        await ports.users.add(bob)
        for org, membership in (zeta, alpha, bobs):
            await ports.orgs.add(org, membership)
        await ports.uow.commit()
    async with open_ports() as ports:
        listed = await ports.orgs.list_for_member(alice.id_)
    assert [view.organization.name.value for view in listed] == ["Alpha", "Zeta"]
    assert all(view.role is Role.OWNER for view in listed)


async def test_second_org_with_same_slug_is_refused(open_ports: OpenPorts) -> None:
    owner = create_user()
    first = create_org(owner, "First", "shared")
    second = create_org(owner, "Second", "shared")
    async with open_ports() as ports:
        await ports.users.add(owner)
        await ports.orgs.add(*first)
        await ports.uow.commit()
    async with open_ports() as ports:
        with pytest.raises(OrgSlugTakenError):
            await ports.orgs.add(*second)
    async with open_ports() as ports:
        listed = await ports.orgs.list_for_member(owner.id_)
    assert [view.organization.name.value for view in listed] == ["First"]


async def test_audit_log_lists_one_org_newest_first(open_ports: OpenPorts) -> None:
    owner = create_user()
    org, membership = create_org(owner)
    other_org, other_membership = create_org(owner)
    async with open_ports() as ports:
        await ports.users.add(owner)
        await ports.orgs.add(org, membership)
        await ports.orgs.add(other_org, other_membership)
        for minute in (1, 3, 2):
            await ports.audit.append(create_audit_event(org.id_, minutes=minute))
        await ports.audit.append(create_audit_event(other_org.id_, minutes=9))
        await ports.uow.commit()
    async with open_ports() as ports:
        events = await ports.audit.list_for_org(org.id_)
        newest = await ports.audit.list_for_org(org.id_, limit=1)
    assert [e.details["minute"] for e in events] == ["3", "2", "1"]
    assert all(e.org_id == org.id_ for e in events)
    assert [e.details["minute"] for e in newest] == ["3"]
    assert events[0].occurred_at.tzinfo is not None


async def test_audit_log_pages_never_overlap_or_skip(open_ports: OpenPorts) -> None:
    """Events at the same instant are ordered by id, and a page picks up after the cursor even
    when newer events arrived between pages."""
    owner = create_user()
    org, membership = create_org(owner)
    async with open_ports() as ports:
        await ports.users.add(owner)
        await ports.orgs.add(org, membership)
        for minute in (1, 2, 2, 2, 3, 4, 4):
            await ports.audit.append(create_audit_event(org.id_, minutes=minute))
        await ports.uow.commit()
    seen: list[AuditEvent] = []
    before: AuditCursor | None = None
    while True:
        async with open_ports() as ports:
            page = await ports.audit.list_for_org(org.id_, limit=2, before=before)
            if not seen:
                await ports.audit.append(create_audit_event(org.id_, minutes=9))
                await ports.uow.commit()
        if not page:
            break
        seen += page
        before = AuditCursor(page[-1].occurred_at, page[-1].id_)
    assert len(seen) == 7
    assert len({e.id_ for e in seen}) == 7
    keys = [(e.occurred_at, e.id_) for e in seen]
    assert keys == sorted(keys, reverse=True)
    assert "9" not in [e.details["minute"] for e in seen]
