from application.ports.sealed_records import SealedRecords
from application.ports.unit_of_work import UnitOfWork

__all__ = ("RotateEncryptionKeys",)

BATCH = 200


class RotateEncryptionKeys:
    """Reseal every stored secret with the newest key, a batch per transaction.

    Idempotent and resumable: an interrupted run leaves each record sealed by an old or the
    new key, both of which still open it, and the next run picks up what is left. When it
    reports nothing left, the old keys can be removed from ``MAESTRIST_ENCRYPTION_KEYS``.
    """

    def __init__(self, records: SealedRecords, uow: UnitOfWork) -> None:
        self._records = records
        self._uow = uow

    async def execute(self) -> int:
        total = 0
        while resealed := await self._records.reseal_batch(BATCH):
            await self._uow.commit()
            total += resealed
        return total
