"""What follows a credit to an organization's balance (a purchase, a grant, an operator's
adjustment), and the operator's own view and adjustments of a balance."""

from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.billing.holds import BillingHold
from domain.billing.ledger import EntryKind, LedgerEntry
from domain.jobs.entities import NewJob, RetryPolicy
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError
from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

__all__ = (
    "OPERATOR_SOURCE",
    "RESUME_HELD_JOB",
    "AdjustBalance",
    "AdjustBalanceRequest",
    "AdjustBalanceResult",
    "ShowBalance",
    "ShowBalanceResult",
    "credited",
    "resume_when_credited",
)

RESUME_HELD_JOB = "billing.resume_held"
OPERATOR_SOURCE = "operator"
"""The ledger source of an operator's adjustments."""


async def resume_when_credited(uow: UnitOfWork, entry: LedgerEntry) -> int:
    """In the transaction that recorded ``entry``, a credit: a job for each of the
    organization's conversations paused because its balance ran out, to resume it once the
    balance allows (the job checks). Answers how many were enqueued."""
    if entry.amount_micros <= 0:
        return 0
    enqueued = 0
    for conversation in await uow.conversations.billing_held(entry.org_id, BillingHold.FUNDS):
        job = NewJob(
            kind=RESUME_HELD_JOB,
            payload={"conversationId": str(conversation.id_)},
            key=f"{RESUME_HELD_JOB}:{conversation.id_}:{entry.id_}",
            retry=RetryPolicy(max_attempts=5),
        )
        enqueued += await uow.jobs.enqueue(job, entry.created_at)
    return enqueued


async def credited(uow: UnitOfWork, entry: LedgerEntry) -> bool:
    """Record a positive entry (a purchase, a grant, an operator's credit) in ``uow``;
    whether it moved the balance (False: its cause was credited before). Every credit goes
    through here and nowhere else, so what must follow one (resuming the organization's
    conversations paused for lack of funds) happens in the same transaction."""
    if entry.amount_micros <= 0:
        raise ValueError("only a positive entry is a credit")
    if not await uow.ledger.record(entry):
        return False
    await resume_when_credited(uow, entry)
    return True


async def _check_org(uow: UnitOfWork, org_id: OrgId) -> None:
    if not await uow.orgs.list_members(org_id):
        raise OrgNotFoundError


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustBalanceRequest:
    org_id: OrgId
    amount_micros: int
    reason: str
    key: str | None = None
    """Once per key: the same adjustment asked again (a retried command) moves nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustBalanceResult:
    entry: LedgerEntry
    recorded: bool
    """False when an adjustment with this key was recorded before."""
    balance_micros: int


class AdjustBalance:
    """An operator's correction of an organization's balance (credits given by hand on a
    deployment without a payment provider, a goodwill grant, a fix), either sign, kept in
    the ledger with its reason; a credit resumes what ran out of money."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: AdjustBalanceRequest) -> AdjustBalanceResult:
        reason = request.reason.strip()
        if not reason:
            raise InvalidValueError("Say why the balance is adjusted.", field="reason")
        await _check_org(self._uow, request.org_id)
        now = self._clock.now()
        entry = LedgerEntry(
            org_id=request.org_id,
            kind=EntryKind.ADJUSTMENT,
            amount_micros=request.amount_micros,
            source=OPERATOR_SOURCE,
            source_id=request.key or str(new_id()),
            created_at=now,
            description=reason,
        )
        if entry.amount_micros > 0:
            recorded = await credited(self._uow, entry)
        else:
            recorded = await self._uow.ledger.record(entry)
        balance = await self._uow.ledger.balance(request.org_id)
        await self._uow.commit()
        return AdjustBalanceResult(entry=entry, recorded=recorded, balance_micros=balance)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowBalanceResult:
    balance_micros: int
    entries: list[LedgerEntry]


class ShowBalance:
    """An organization's balance and its latest ledger entries, for the operator."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, org_id: OrgId, limit: int = 20) -> ShowBalanceResult:
        await _check_org(self._uow, org_id)
        return ShowBalanceResult(
            balance_micros=await self._uow.ledger.balance(org_id),
            entries=await self._uow.ledger.entries(org_id, limit=max(1, min(limit, 1000))),
        )
