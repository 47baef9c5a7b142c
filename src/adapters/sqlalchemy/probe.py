from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translate_db_errors
from application.ports.dependency_probe import DependencyProbe

__all__ = ("SqlaDatabaseProbe",)


class SqlaDatabaseProbe(DependencyProbe):
    """Readiness of the database: a connection from the pool answers ``SELECT 1``."""

    def __init__(self, engine: AsyncEngine, name: str = "database") -> None:
        self.name = name
        self._engine = engine

    async def check(self) -> None:
        async with translate_db_errors(), self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
