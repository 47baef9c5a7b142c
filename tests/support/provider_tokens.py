"""Provider tokens read and written straight in a test database, sealed as the test servers
seal them (``TEST_ENCRYPTION_KEYS``)."""

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import SqlaProviderTokenStore, create_database_engine
from domain.git.entities import ProviderToken
from domain.git.providers import ProviderKind
from domain.identity.entities import UserId
from entrypoints.settings import parse_encryption_keys
from tests.conftest import TEST_ENCRYPTION_KEYS

__all__ = ("seed_token", "stored_token")


def _cipher() -> AesGcmCipher:
    return AesGcmCipher(parse_encryption_keys(TEST_ENCRYPTION_KEYS))


async def seed_token(url: str, token: ProviderToken) -> None:
    """Store ``token`` as the server would."""
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with async_sessionmaker(engine)() as session:
            await SqlaProviderTokenStore(session, _cipher()).put(token)
            await session.commit()
    finally:
        await engine.dispose()


async def stored_token(
    url: str, user_id: UserId, provider: ProviderKind = ProviderKind.GITHUB
) -> ProviderToken | None:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    try:
        async with async_sessionmaker(engine)() as session:
            return await SqlaProviderTokenStore(session, _cipher()).get(user_id, provider)
    finally:
        await engine.dispose()
