from pathlib import Path

import migrations
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = (
    "SchemaRevisions",
    "current_revisions",
    "downgrade_to",
    "migration_config",
    "upgrade_to",
    "upgrade_to_head",
)


def migration_config(connection: Connection | None = None) -> Config:
    """Alembic configuration pointing at the packaged ``migrations`` scripts."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["connection"] = connection
    return config


async def upgrade_to(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(migration_config(sync), revision))


async def upgrade_to_head(engine: AsyncEngine) -> None:
    await upgrade_to(engine, "head")


async def downgrade_to(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(migration_config(sync), revision))


class SchemaRevisions:
    """The packaged migrations: which revisions this code expects the database at, and
    whether a database's revisions are behind them."""

    def __init__(self) -> None:
        script = ScriptDirectory.from_config(migration_config())
        self.heads = frozenset(script.get_heads())
        self._known = frozenset(revision.revision for revision in script.walk_revisions())

    def pending(self, current: frozenset[str]) -> str | None:
        """Why the schema is behind this code (a sentence naming what to run), or None when
        it is at the heads, or ahead of them (a newer release migrated it)."""
        if current == self.heads or current - self._known:
            return None
        at = ", ".join(sorted(current)) or "no revision (never migrated)"
        return (
            f"The database schema is not migrated: it is at {at}, this server needs "
            f"{', '.join(sorted(self.heads))}; run `maestrist migrate`."
        )


_VERSION_TABLE = "alembic_version"
_VERSION = Table(_VERSION_TABLE, MetaData(), Column("version_num", String(32)))
"""Where alembic keeps the revisions a database is at (its default table)."""


async def current_revisions(connection: AsyncConnection) -> frozenset[str]:
    """The revisions the database says it is at; empty when it was never migrated."""

    def read(sync: Connection) -> frozenset[str]:
        # Read alembic's table directly: a MigrationContext would log two INFO lines on every
        # readiness probe.
        if not inspect(sync).has_table(_VERSION_TABLE):
            return frozenset()
        return frozenset(sync.execute(select(_VERSION.c.version_num)).scalars())

    return await connection.run_sync(read)
