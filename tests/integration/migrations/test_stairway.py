"""Stairway test: every revision upgrades, downgrades and upgrades again; head matches the models.

Runs on a fresh SQLite file and on a fresh, unmigrated PostgreSQL database of the test's own.
"""

from itertools import pairwise
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.migrator import downgrade_to, migration_config, upgrade_to
from adapters.sqlalchemy.models import Base

COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True}
"""Types and server defaults are compared too; DateTimeUTC and JsonB compare cleanly
(alembic checks a TypeDecorator by its ``impl`` and a variant by the dialect's own type), so no
comparison has to be switched off to keep the check quiet."""

MODEL_TABLES = frozenset(Base.metadata.tables)


def revisions_base_to_head() -> list[Script]:
    script = ScriptDirectory.from_config(migration_config())
    assert len(script.get_heads()) == 1, "the revision graph must have a single head"
    assert len(script.get_bases()) == 1, "the revision graph must have a single base"
    return list(reversed(list(script.walk_revisions("base", "heads"))))


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
    return list(compare_metadata(context, Base.metadata))


async def schema_diff(engine: AsyncEngine) -> list[Any]:
    """What autogenerate would write to bring the live schema to ``Base.metadata``."""
    async with engine.connect() as connection:
        return await connection.run_sync(_schema_diff)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def test_revisions_form_one_line() -> None:
    revisions = revisions_base_to_head()
    assert revisions, "there is at least one revision"
    assert revisions[0].down_revision is None
    for previous, following in pairwise(revisions):
        assert following.down_revision == previous.revision


async def test_every_revision_upgrades_downgrades_and_upgrades_again(engine: AsyncEngine) -> None:
    for revision in revisions_base_to_head():
        down = revision.down_revision
        assert down is None or isinstance(down, str), "merge revisions are not expected"
        await upgrade_to(engine, revision.revision)
        assert await current_revision(engine) == revision.revision
        await downgrade_to(engine, down or "base")
        assert await current_revision(engine) == down
        await upgrade_to(engine, revision.revision)
        assert await current_revision(engine) == revision.revision

    assert await schema_diff(engine) == []


async def test_downgrade_to_base_leaves_no_application_table(engine: AsyncEngine) -> None:
    await upgrade_to(engine, "head")
    assert await table_names(engine) >= MODEL_TABLES

    await downgrade_to(engine, "base")

    assert await table_names(engine) <= {"alembic_version"}
    assert await current_revision(engine) is None


async def test_schema_comparison_reports_what_is_missing(engine: AsyncEngine) -> None:
    """The comparison is not vacuous: on an empty database it lists every model table."""
    diff = await schema_diff(engine)

    added = {
        entry[1].name for entry in diff if isinstance(entry, tuple) and entry[0] == "add_table"
    }
    assert added == MODEL_TABLES
