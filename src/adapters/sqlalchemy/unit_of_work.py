from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from application.ports.unit_of_work import UnitOfWork

__all__ = ("SqlaUnitOfWork",)


class SqlaUnitOfWork(UnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def commit(self) -> None:
        async with translate_db_errors():
            await self._session.commit()

    async def rollback(self) -> None:
        async with translate_db_errors():
            await self._session.rollback()
