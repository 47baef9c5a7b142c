import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from dishka import Provider, Scope, provide
from litestar import Litestar
from litestar.testing import AsyncTestClient

from application.ports.authenticator import Authenticator
from entrypoints.ioc import create_app
from entrypoints.settings import Settings
from tests.conftest import clustered_settings
from tests.fakes import BearerSubjectAuthenticator

Client = AsyncTestClient[Litestar]


class BearerSubjectAuth(Provider):
    """Sign-in stand-in for the clustered binding: ``Authorization: Bearer <subject>``."""

    authenticator = provide(
        BearerSubjectAuthenticator, provides=Authenticator, scope=Scope.REQUEST, override=True
    )


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serve(
    settings: Settings, *providers: Provider, base_url: str = "http://testserver.local"
) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(settings, *providers), base_url=base_url) as client:
        client.follow_redirects = False  # a redirect is an answer to check, not to chase
        yield client


def bearer(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {subject}"}


@pytest.fixture
async def embedded_client(embedded_settings: Settings) -> AsyncIterator[Client]:
    async with serve(embedded_settings) as client:
        yield client


@pytest.fixture
async def clustered_client(postgres_url: str) -> AsyncIterator[Client]:
    async with serve(clustered_settings(postgres_url), BearerSubjectAuth()) as client:
        yield client
