from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import create_database_engine


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database no migration has touched yet: a new SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'blank.db'}"
    url = request.getfixturevalue("empty_postgres_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
async def engine(blank_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_database_engine(blank_url, pool_size=1, connect_timeout_s=10)
    try:
        yield engine
    finally:
        await engine.dispose()
