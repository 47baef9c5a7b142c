from application.ports.unit_of_work import UnitOfWork
from tests.fakes.store import FakeStore


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def commit(self) -> None:
        self._store.commit()

    async def rollback(self) -> None:
        self._store.rollback()
