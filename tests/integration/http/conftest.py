from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from dishka import Provider, Scope, provide
from litestar import Litestar
from litestar.testing import AsyncTestClient

from application.identity.authenticator import Authenticator
from entrypoints.ioc import create_app
from entrypoints.settings import Settings
from tests.conftest import NO_RATE_LIMITS, REDIS_URL, TEST_SIGNING_KEYS, clustered_settings
from tests.fakes import BearerSubjectAuthenticator
from tests.support.oidc import OidcProvider

Client = AsyncTestClient[Litestar]


class BearerSubjectAuth(Provider):
    """Sign-in stand-in for the clustered binding: ``Authorization: Bearer <subject>``."""

    authenticator = provide(
        BearerSubjectAuthenticator, provides=Authenticator, scope=Scope.REQUEST, override=True
    )


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


def sign_in_settings(
    database_url: str, provider: OidcProvider, public_url: str, keys: str, **extra: str
) -> Settings:
    """The clustered binding signing in through ``provider``; ``extra`` adds variables."""
    return Settings.from_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": database_url,
            "MAESTRIST_REDIS_URL": REDIS_URL,
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_PUBLIC_URL": public_url,
            "MAESTRIST_OIDC_ISSUER": provider.issuer,
            "MAESTRIST_OIDC_CLIENT_ID": provider.client_id,
            "MAESTRIST_OIDC_CLIENT_SECRET": provider.client_secret,
            "MAESTRIST_ENCRYPTION_KEYS": keys,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
            **NO_RATE_LIMITS,
            **extra,
        }
    )
