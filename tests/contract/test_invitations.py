"""The InvitationRepository contract over the fake, SQLite and PostgreSQL: scoped by
organization, one open invitation per organization and address whatever its case,
transactional."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import (
    SqlaInvitationRepository,
    SqlaOrgRepository,
    SqlaUnitOfWork,
    SqlaUserRepository,
    create_database_engine,
)
from application.ports.invitation_repository import InvitationRepository
from application.ports.unit_of_work import UnitOfWork
from domain.identity.entities import UserId
from domain.identity.value_objects import EmailAddress
from domain.organizations.entities import OrgId, Role
from domain.organizations.errors import InvitationAlreadyPendingError
from domain.organizations.invitations import Invitation, InvitationId
from domain.shared.ids import new_id
from tests.db import TEST_CIPHER
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeInvitationRepository, FakeStore, FakeUnitOfWork


@dataclass(frozen=True, slots=True)
class Tx:
    invitations: InvitationRepository
    uow: UnitOfWork


@dataclass(frozen=True, slots=True)
class Backend:
    open: Callable[[], AbstractAsyncContextManager[Tx]]
    """One transaction; uncommitted work is dropped on exit."""
    inviter: UserId
    orgs: list[OrgId]


@asynccontextmanager
async def _fake() -> AsyncIterator[Backend]:
    store = FakeStore()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Tx]:
        yield Tx(FakeInvitationRepository(store), FakeUnitOfWork(store))
        store.rollback()

    yield Backend(open_, UserId(new_id()), [OrgId(new_id()), OrgId(new_id())])


@asynccontextmanager
async def _sqla(url: str) -> AsyncIterator[Backend]:
    engine = create_database_engine(url, pool_size=2, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    owner = create_user()
    orgs = [create_org(owner), create_org(owner)]
    async with sessions() as session:
        await SqlaUserRepository(session).add(owner)
        for org in orgs:
            await SqlaOrgRepository(session).add(*org)
        await session.commit()

    @asynccontextmanager
    async def open_() -> AsyncIterator[Tx]:
        async with sessions() as session:
            yield Tx(SqlaInvitationRepository(session), SqlaUnitOfWork(session, TEST_CIPHER))

    try:
        yield Backend(open_, owner.id_, [org.id_ for org, _ in orgs])
    finally:
        await engine.dispose()


@pytest.fixture
async def backend(backend_url: str | None) -> AsyncIterator[Backend]:
    """``backend_url`` (tests/contract/conftest.py): None for the fake, else a migrated DB."""
    opened = _fake() if backend_url is None else _sqla(backend_url)
    async with opened as backend:
        yield backend


def _invite(
    backend: Backend, email: str, *, org: int = 0, minutes: int = 0, role: Role = Role.MEMBER
) -> Invitation:
    return Invitation.issue(
        org_id=backend.orgs[org],
        email=EmailAddress(email),
        role=role,
        invited_by=backend.inviter,
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


async def _add(backend: Backend, *invitations: Invitation) -> None:
    async with backend.open() as tx:
        for invitation in invitations:
            await tx.invitations.add(invitation)
        await tx.uow.commit()


def _ids(invitations: list[Invitation]) -> list[InvitationId]:
    return [i.id_ for i in invitations]


async def test_an_invitation_reads_back_whole_in_its_org_only(backend: Backend) -> None:
    sut = _invite(backend, "O'Brien+ünï@Example.COM", role=Role.ADMIN)
    await _add(backend, sut)
    async with backend.open() as tx:
        assert _fields(await tx.invitations.get(backend.orgs[0], sut.id_)) == _fields(sut)
        assert await tx.invitations.get(backend.orgs[1], sut.id_) is None
        assert await tx.invitations.get(backend.orgs[0], InvitationId(new_id())) is None
        found = await tx.invitations.find_open(
            backend.orgs[0], EmailAddress("o'brien+ÜNÏ@example.com")
        )
        assert _fields(found) == _fields(sut)
        assert await tx.invitations.find_open(backend.orgs[1], sut.email) is None


async def test_one_open_invitation_per_org_and_address_whatever_its_case(
    backend: Backend,
) -> None:
    first = _invite(backend, "ada@example.com")
    await _add(backend, first, _invite(backend, "ada@example.com", org=1))
    async with backend.open() as tx:
        with pytest.raises(InvitationAlreadyPendingError):
            await tx.invitations.add(_invite(backend, "ADA@example.com", minutes=1))
    async with backend.open() as tx:
        stored = await tx.invitations.get(backend.orgs[0], first.id_)
        assert stored is not None
        stored.revoke(T0 + timedelta(minutes=2))
        await tx.invitations.save(stored)
        again = _invite(backend, "Ada@example.com", minutes=3)
        await tx.invitations.add(again)
        await tx.uow.commit()
    async with backend.open() as tx:
        found = await tx.invitations.find_open(backend.orgs[0], EmailAddress("ada@example.com"))
        assert _fields(found) == _fields(again)


async def test_open_lists_are_ordered_and_leave_closed_ones_out(backend: Backend) -> None:
    old = _invite(backend, "a@example.com", minutes=1)
    new = _invite(backend, "b@example.com", minutes=2)
    accepted = _invite(backend, "c@example.com", minutes=3)
    elsewhere = _invite(backend, "A@example.com", org=1, minutes=0)
    await _add(backend, old, new, accepted, elsewhere)
    async with backend.open() as tx:
        accepted.accept(T0 + timedelta(minutes=4))
        await tx.invitations.save(accepted)
        await tx.uow.commit()
    later = T0 + timedelta(days=30)
    async with backend.open() as tx:
        listed = await tx.invitations.list_open(backend.orgs[0])
        for_a = await tx.invitations.list_open_for_email(EmailAddress("a@EXAMPLE.com"))
        for_c = await tx.invitations.list_open_for_email(EmailAddress("c@example.com"))
    assert _ids(listed) == [new.id_, old.id_]
    assert all(i.status(later).value == "expired" for i in listed)
    assert _ids(for_a) == [elsewhere.id_, old.id_]
    assert for_c == []


async def test_uncommitted_changes_are_dropped(backend: Backend) -> None:
    sut = _invite(backend, "a@example.com")
    await _add(backend, sut)
    async with backend.open() as tx:
        sut.accept(T0 + timedelta(minutes=1))
        await tx.invitations.save(sut)
        await tx.invitations.add(_invite(backend, "b@example.com"))
    async with backend.open() as tx:
        stored = await tx.invitations.get(backend.orgs[0], sut.id_)
        assert stored is not None
        assert stored.accepted_at is None
        assert _ids(await tx.invitations.list_open(backend.orgs[0])) == [sut.id_]


async def test_saving_an_invitation_never_added_is_a_bug(backend: Backend) -> None:
    async with backend.open() as tx:
        with pytest.raises(LookupError):
            await tx.invitations.save(_invite(backend, "a@example.com"))
