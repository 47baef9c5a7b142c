"""SqlaSealedRecords on SQLite: a key id is matched literally when rows sealed under another key
are looked for, even when it holds a character that is a wildcard to SQL's LIKE, and a batch
reseals no more rows than asked, however they spread over the tables."""

import os

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.crypto import AesGcmCipher
from adapters.sqlalchemy import SqlaUnitOfWork, create_database_engine
from adapters.sqlalchemy.sealed_records import SqlaSealedRecords
from domain.secrets.entities import CustomSecret, SecretDescription, SecretName, SecretValue
from domain.settings.entities import SettingsValues, UserSettings
from domain.settings.value_objects import LlmApiKey
from tests.factories import T0, create_user

OLD, NEW = os.urandom(32), os.urandom(32)


@pytest.mark.parametrize(
    ("current", "old"),
    [("k_2", "kx2"), ("k%", "kxy"), ("k_2", "k_2old")],
    ids=["underscore", "percent", "prefix"],
)
async def test_rows_of_a_key_its_id_would_match_as_a_pattern_are_resealed(
    sqlite_url: str, current: str, old: str
) -> None:
    engine = create_database_engine(sqlite_url, pool_size=1, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    before = AesGcmCipher({old: OLD})
    rotated = AesGcmCipher({current: NEW, old: OLD})
    user = create_user("sub-rita")
    secret = CustomSecret.create(
        user_id=user.id_,
        name=SecretName("DEPLOY"),
        value=SecretValue("v"),
        description=SecretDescription("d"),
        now=T0,
    )
    try:
        async with sessions() as session:
            uow = SqlaUnitOfWork(session, before)
            await uow.users.add(user)
            await uow.secrets.add(secret)
            await uow.commit()
        async with sessions() as session:
            assert await SqlaSealedRecords(session, rotated).reseal_batch(10) == 1
            await session.commit()
        async with sessions() as session:
            assert await SqlaSealedRecords(session, rotated).reseal_batch(10) == 0
            stored = await SqlaUnitOfWork(session, AesGcmCipher({current: NEW})).secrets.get(
                user.id_, SecretName("DEPLOY")
            )
        assert stored is not None
        assert stored.description is not None
        assert (stored.value.value, stored.description.value) == ("v", "d")
    finally:
        await engine.dispose()


async def test_a_batch_stops_at_its_limit_across_tables(sqlite_url: str) -> None:
    """A person's settings (an earlier table) and three secrets, all sealed under the old key:
    batches of two reseal two rows each, the second taking its share from the secrets after
    the settings used one, until nothing is left."""
    engine = create_database_engine(sqlite_url, pool_size=1, connect_timeout_s=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    before = AesGcmCipher({"old": OLD})
    rotated = AesGcmCipher({"new": NEW, "old": OLD})
    user = create_user("sub-sam")
    names = [SecretName(f"S{number}") for number in range(3)]
    try:
        async with sessions() as session:
            uow = SqlaUnitOfWork(session, before)
            await uow.users.add(user)
            await uow.settings.put_user(
                UserSettings(
                    user_id=user.id_,
                    values=SettingsValues(llm_api_key=LlmApiKey("sk-old")),
                    updated_at=T0,
                )
            )
            for name in names:
                await uow.secrets.add(
                    CustomSecret.create(
                        user_id=user.id_,
                        name=name,
                        value=SecretValue("v"),
                        description=None,
                        now=T0,
                    )
                )
            await uow.commit()
        batches = []
        for _ in range(3):
            async with sessions() as session:
                batches.append(await SqlaSealedRecords(session, rotated).reseal_batch(2))
                await session.commit()
        assert batches == [2, 2, 0]
        async with sessions() as session:
            uow = SqlaUnitOfWork(session, AesGcmCipher({"new": NEW}))
            stored = await uow.settings.get_user(user.id_)
            secrets = [await uow.secrets.get(user.id_, name) for name in names]
        assert stored is not None
        assert stored.values.llm_api_key == LlmApiKey("sk-old")
        assert [secret.value.value for secret in secrets if secret is not None] == ["v"] * 3
    finally:
        await engine.dispose()
