"""An app installation's cached token is one of the sealed records: a key rotation reseals it,
and it opens under the new key alone."""

import os
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import SqlaUnitOfWork, create_database_engine
from adapters.sqlalchemy.sealed_records import SqlaSealedRecords
from domain.git.providers import ProviderKind
from domain.resolver.entities import AppInstallation, InstallationToken
from tests.factories import T0

OLD, NEW = os.urandom(32), os.urandom(32)


async def test_a_rotation_reseals_the_installation_token(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url, pool_size=1, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    token = InstallationToken(token="ghs_cached", expires_at=T0 + timedelta(hours=1))
    try:
        async with sessions() as session:
            uow = SqlaUnitOfWork(session, AesGcmCipher({"old": OLD}))
            await uow.app_installations.put(
                AppInstallation(
                    provider=ProviderKind.GITHUB,
                    installation_id="4242",
                    account_login="acme",
                    account_type="Organization",
                    updated_at=T0,
                )
            )
            await uow.app_installations.store_token(
                ProviderKind.GITHUB, "4242", token, replacing=None
            )
            await uow.commit()
        rotated = AesGcmCipher({"new": NEW, "old": OLD})
        async with sessions() as session:
            assert await SqlaSealedRecords(session, rotated).reseal_batch(10) == 1
            await session.commit()
        async with sessions() as session:
            assert await SqlaSealedRecords(session, rotated).reseal_batch(10) == 0
            uow = SqlaUnitOfWork(session, AesGcmCipher({"new": NEW}))
            kept = await uow.app_installations.get(ProviderKind.GITHUB, "4242")
        assert kept is not None
        assert kept.token == token
    finally:
        await engine.dispose()
