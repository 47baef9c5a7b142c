"""Transactions over one store, on the fake, SQLite and PostgreSQL alike: what one writes is
invisible to others until it commits, and a rollback drops its own writes and nothing else."""

from tests.backends import OpenPorts
from tests.factories import create_user


async def test_an_open_transaction_does_not_see_anothers_uncommitted_writes(
    open_ports: OpenPorts,
) -> None:
    ada = create_user()
    async with open_ports() as writer:
        await writer.users.add(ada)
        assert await writer.users.get(ada.id_) == ada
        async with open_ports() as reader:
            assert await reader.users.get(ada.id_) is None
            assert await reader.users.get_by_subject(ada.subject) is None
        await writer.uow.commit()
    async with open_ports() as reader:
        assert await reader.users.get(ada.id_) == ada


async def test_a_rollback_drops_its_own_writes_only(open_ports: OpenPorts) -> None:
    ada, bob = create_user(), create_user()
    async with open_ports() as ports:
        await ports.users.add(ada)
        await ports.uow.commit()
    async with open_ports() as reader:
        assert await reader.users.get(ada.id_) == ada
        async with open_ports() as writer:
            await writer.users.add(bob)
            assert await reader.users.get(bob.id_) is None
            await writer.uow.rollback()
            assert await writer.users.get(bob.id_) is None
        assert await reader.users.get(ada.id_) == ada
    async with open_ports() as ports:
        assert await ports.users.get(ada.id_) == ada
        assert await ports.users.get(bob.id_) is None


async def test_a_transaction_reads_what_another_committed_meanwhile(
    open_ports: OpenPorts,
) -> None:
    """Read committed, as PostgreSQL's default: a later read sees a commit made meanwhile."""
    ada = create_user()
    async with open_ports() as reader:
        assert await reader.users.get(ada.id_) is None
        await reader.uow.rollback()
        async with open_ports() as writer:
            await writer.users.add(ada)
            await writer.uow.commit()
        assert await reader.users.get(ada.id_) == ada


async def test_what_waits_for_the_commit_runs_after_it_in_order_and_never_after_a_rollback(
    open_ports: OpenPorts,
) -> None:
    ran: list[str] = []
    ada, bob = create_user(), create_user()
    async with open_ports() as ports:
        await ports.users.add(bob)
        ports.uow.after_commit(lambda: ran.append("dropped"))
        await ports.uow.rollback()
        await ports.users.add(ada)
        ports.uow.after_commit(lambda: ran.append("first"))
        ports.uow.after_commit(lambda: ran.append("second"))
        assert ran == []
        await ports.uow.commit()
        assert ran == ["first", "second"]
        await ports.uow.commit()  # each runs once
        assert ran == ["first", "second"]
    async with open_ports() as ports:
        assert await ports.users.get(ada.id_) == ada
        assert await ports.users.get(bob.id_) is None
