from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ("dialect_insert",)


def dialect_insert(session: AsyncSession, row: type[Any]) -> Any:
    """An ``INSERT`` into ``row``'s table in the dialect of ``session``'s database, for its
    ``ON CONFLICT`` clauses (both dialects have them, under their own construct)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert(row) if dialect == "postgresql" else sqlite.insert(row)
