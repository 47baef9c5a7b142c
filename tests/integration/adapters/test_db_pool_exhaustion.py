"""A database connection pool that stays full is an outage (503), not a server fault (500)."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.sqlalchemy import SqlaProviderTokenStore, create_database_engine
from application.errors import DependencyUnavailableError
from domain.git.providers import ProviderKind
from tests.backends import TEST_CIPHER
from tests.factories import create_user


@pytest.mark.postgres
async def test_a_read_that_waits_out_a_full_pool_is_unavailable(postgres_url: str) -> None:
    engine = create_database_engine(postgres_url, pool_size=1, connect_timeout_s=0.2)
    sessions = async_sessionmaker(engine)
    try:
        async with engine.connect() as held, engine.connect() as overflow:
            await held.execute(text("SELECT 1"))
            await overflow.execute(text("SELECT 1"))
            async with sessions() as session:
                with pytest.raises(DependencyUnavailableError):
                    await SqlaProviderTokenStore(session, TEST_CIPHER).get(
                        create_user().id_, ProviderKind.GITHUB
                    )
    finally:
        await engine.dispose()
