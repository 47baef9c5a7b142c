"""A new PostgreSQL connection that fails reaches our code as the dialect's DBAPI error, raised
from asyncpg's own: what ``translate_db_errors`` and ``maestrist migrate`` read."""

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import create_database_engine
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.mark.postgres
async def test_a_connection_to_a_missing_database_fails_as_a_dbapi_error() -> None:
    url = make_url(POSTGRES_ADMIN_URL).set(
        drivername="postgresql+asyncpg", database="maestrist_no_such_database"
    )
    engine = create_database_engine(
        url.render_as_string(hide_password=False), pool_size=1, connect_timeout_s=5
    )
    try:
        with pytest.raises(DBAPIError) as raised:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()

    assert raised.value.orig is not None
    assert isinstance(raised.value.orig.__cause__, asyncpg.exceptions.InvalidCatalogNameError)
    assert getattr(raised.value.orig, "sqlstate", None) == "3D000"
