"""Direct access to a test database through the real adapters, outside any app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.identity.entities import User
from domain.organizations.entities import Organization
from tests.backends import OpenPorts, sqla_backend
from tests.factories import create_user


@asynccontextmanager
async def sqla_ports(url: str) -> AsyncIterator[OpenPorts]:
    """Transactions over the migrated database at ``url``, as the contract suites open them."""
    async with sqla_backend(url) as backend:
        yield backend.open


async def add_user(url: str, subject: str) -> User:
    """Store a user with a personal organization, as sign-in will, in one transaction."""
    user = create_user(subject)
    personal = Organization.personal_for(
        owner=user.id_, display_name=user.display_name, now=user.created_at
    )
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.users.add(user)
        await ports.orgs.add(*personal)
        await ports.uow.commit()
    return user
