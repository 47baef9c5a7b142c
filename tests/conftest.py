import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from adapters.sqlalchemy import create_database_engine, upgrade_to_head
from entrypoints.settings import Settings

hypothesis_settings.register_profile(
    "maestrist",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("maestrist")
"""Speed is for benchmarks: a slow example on a busy machine is not a failure."""

POSTGRES_ADMIN_URL = os.environ.get(
    "MAESTRIST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A role that may create and drop databases; each test session works in databases of its own."""

REDIS_URL = os.environ.get("MAESTRIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_ENCRYPTION_KEYS = "test-enc-1:cKPs2aBQqteICIlnNXNr3YWn8F-V_Zbde41KD7umdvw"
TEST_SIGNING_KEYS = "test-sig-1:rUOOdIiTGL84nHAaLx8bpDOR1Cqiy-xb3X96pByRrPk"
"""Keys for test servers only; the clustered binding needs both."""

TEST_DATABASE_PREFIX = "maestrist_test_"

NO_RATE_LIMITS = {"MAESTRIST_RATE_LIMIT_ENABLED": "false"}
"""Test servers fire requests far faster than any person: only the rate-limit tests turn
the limits on."""

TIERS = ("tests/unit/", "tests/contract/", "tests/integration/", "tests/e2e/")


def _cheapest_first(item: pytest.Item) -> tuple[int, str]:
    tier = next((n for n, tier in enumerate(TIERS) if item.nodeid.startswith(tier)), len(TIERS))
    return tier, item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutation testing (mutmut sets ``MUTANT_UNDER_TEST``), which hands each mutant's
    tests over in no particular order and stops at the first failure: the cheapest tier first,
    a module's tests together. Most mutants die in a unit test."""
    if "MUTANT_UNDER_TEST" in os.environ:
        items.sort(key=_cheapest_first)


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_test_database() -> str:
    """A new empty database; its name marks it as disposable. Returns its asyncpg URL."""
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


def drop_test_database(url: str) -> None:
    name = make_url(url).database
    assert name is not None
    assert name.startswith(TEST_DATABASE_PREFIX), "refusing to drop a database tests did not make"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    url = create_test_database()
    try:
        yield url
    finally:
        drop_test_database(url)


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"MAESTRIST_DATA_DIR": str(tmp_path), "MAESTRIST_ACCESS_LOG": "false", **NO_RATE_LIMITS}
    )


CLUSTERED_DATA_DIR = Path(tempfile.gettempdir()) / f"maestrist-tests-{os.getpid()}"
"""The in-process clustered servers' data directory (where mail is written when no mail server
is configured), away from the home directory."""


def clustered_settings(database_url: str, redis_url: str = REDIS_URL) -> Settings:
    return Settings.from_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": database_url,
            "MAESTRIST_REDIS_URL": redis_url,
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_DEPENDENCY_TIMEOUT": "1",
            "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
            "MAESTRIST_DATA_DIR": str(CLUSTERED_DATA_DIR),
            **NO_RATE_LIMITS,
        }
    )


async def _migrate(url: str) -> None:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=10)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """One migrated database per test session, copied for each test that needs one."""
    url = create_test_database()
    asyncio.run(_migrate(url))
    try:
        yield url
    finally:
        drop_test_database(url)


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A migrated database of this test's own."""
    template = make_url(postgres_template).database
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(postgres_template).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        drop_test_database(url)


@pytest.fixture
def icu_postgres_url() -> Iterator[str]:
    """A migrated database whose text sorts by ICU's English rules, as a real-world server's
    default collation does, rather than byte-wise as the C collation of the others."""
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    try:
        asyncio.run(
            _admin(
                f'CREATE DATABASE "{name}" TEMPLATE template0 '
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        )
    except asyncpg.PostgresError as exc:
        pytest.skip(f"this PostgreSQL server cannot create an ICU-collated database: {exc}")
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        asyncio.run(_migrate(rendered))
        yield rendered
    finally:
        drop_test_database(rendered)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    asyncio.run(_migrate(url))
    return url
