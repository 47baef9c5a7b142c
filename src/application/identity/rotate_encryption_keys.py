from dataclasses import dataclass

from application.ports.sealed_records import SealedRecords
from application.ports.unit_of_work import UnitOfWork

__all__ = ("RotateEncryptionKeys", "RotateEncryptionKeysRequest", "RotateEncryptionKeysResult")

BATCH = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class RotateEncryptionKeysRequest:
    """Nothing to choose: every sealed record is resealed with the newest key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RotateEncryptionKeysResult:
    resealed: int


class RotateEncryptionKeys:
    """Reseal every stored secret with the newest key, a batch per transaction: an operator
    command, never a request.

    It commits once per batch, by design: idempotent and resumable, an interrupted run leaves
    each record sealed by an old or the new key, both of which still open it, and the next run
    picks up what is left. When it reports nothing left, the old keys can be removed from
    ``MAESTRIST_ENCRYPTION_KEYS``.
    """

    def __init__(self, records: SealedRecords, uow: UnitOfWork) -> None:
        self._records = records
        self._uow = uow

    async def execute(self, request: RotateEncryptionKeysRequest) -> RotateEncryptionKeysResult:
        total = 0
        while resealed := await self._records.reseal_batch(BATCH):
            await self._uow.commit()
            total += resealed
        return RotateEncryptionKeysResult(resealed=total)
