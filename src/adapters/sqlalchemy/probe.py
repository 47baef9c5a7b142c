from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.migrator import SchemaRevisions, current_revisions
from application.errors import DependencyUnavailableError
from application.ports.dependency_probe import DependencyProbe

__all__ = ("SqlaDatabaseProbe",)


class SqlaDatabaseProbe(DependencyProbe):
    """Readiness of the database: a connection from the pool answers ``SELECT 1``, and the
    schema is migrated as far as this code needs (checked until it is, then taken as done)."""

    def __init__(
        self, engine: AsyncEngine, name: str = "database", schema: SchemaRevisions | None = None
    ) -> None:
        self.name = name
        self._engine = engine
        self._schema = schema
        self._migrated = schema is None

    async def check(self) -> None:
        pending = None
        async with translate_db_errors(), self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            if not self._migrated and self._schema is not None:
                pending = self._schema.pending(await current_revisions(connection))
        if pending is not None:
            raise DependencyUnavailableError(pending)
        self._migrated = True
