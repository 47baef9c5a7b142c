from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from application.billing.funds import BudgetPolicy, month_start
from application.members._shared import callers_view
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction, AuditEvent
from domain.billing.ledger import MAX_ABS_MICROS
from domain.billing.usage import UsageDimension, UsageSummaryRow
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId
from domain.organizations.policy import check_can_manage_billing
from domain.shared.errors import InvalidValueError

__all__ = (
    "MAX_USAGE_DAYS",
    "SetMemberCap",
    "SetMemberCapRequest",
    "ShowMemberCap",
    "ShowMemberCapRequest",
    "ShowUsage",
    "ShowUsageRequest",
    "ShowUsageResult",
)

MAX_USAGE_DAYS = 366
"""The longest window one summary covers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowUsageRequest:
    actor: Principal
    org_id: OrgId
    by: Sequence[UsageDimension] = ()
    since: date | None = None
    """The first day (UTC) counted; the first of this month when not given."""
    until: date | None = None
    """The last day (UTC) counted; today when not given."""
    user_id: UserId | None = None
    """Only this member's usage; the organization's whole when None and ``everyone``."""
    everyone: bool = False
    """The whole organization's (owners and admins); the caller's own when False."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowUsageResult:
    since: date
    until: date
    rows: list[UsageSummaryRow]
    currency: str


class ShowUsage:
    """What agents used in an organization, by day, person or model: each member sees their
    own; owners and admins see everyone's, or one member's. Usage on a member's own LLM key is
    shown and not billed; ``billed`` is what the organization paid."""

    def __init__(self, uow: UnitOfWork, clock: Clock, policy: BudgetPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, request: ShowUsageRequest) -> ShowUsageResult:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        own = request.actor.user.id_
        if request.everyone or request.user_id not in (None, own):
            check_can_manage_billing(view.role)
        user_id = request.user_id if request.everyone or request.user_id else own
        today = self._clock.now().astimezone(UTC).date()
        since = request.since or month_start(self._clock.now()).date()
        until = request.until or today
        if until < since:
            raise InvalidValueError("The window ends before it starts.", field="until")
        if (until - since).days >= MAX_USAGE_DAYS:
            raise InvalidValueError(
                f"A usage window is at most {MAX_USAGE_DAYS} days.", field="since"
            )
        rows = await self._uow.usage.summary(
            request.org_id,
            list(dict.fromkeys(request.by)),
            since=datetime.combine(since, time(), UTC),
            until=datetime.combine(until + timedelta(days=1), time(), UTC),
            user_id=user_id,
        )
        return ShowUsageResult(since=since, until=until, rows=rows, currency=self._policy.currency)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMemberCapRequest:
    actor: Principal
    org_id: OrgId
    cap_micros: int | None
    """What each member may spend of the organization's balance per month; None lifts it."""


class SetMemberCap:
    """Set the monthly cap on what each member's agents may spend of the organization's
    balance (owners and admins), audited. A member at the cap starts and resumes nothing the
    organization pays for until the month turns or the cap is raised."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: SetMemberCapRequest) -> None:
        view = await callers_view(self._uow.orgs, request.actor, request.org_id)
        check_can_manage_billing(view.role)
        cap = request.cap_micros
        if cap is not None and not 0 <= cap <= MAX_ABS_MICROS:
            raise InvalidValueError(
                "A cap is an amount from 0 to a billion.", field="member_monthly_cap"
            )
        await self._uow.ledger.set_member_cap(request.org_id, cap)
        await self._uow.audit.append(
            AuditEvent(
                occurred_at=self._clock.now(),
                action=AuditAction.MEMBER_CAP_CHANGED,
                actor_id=request.actor.user.id_,
                org_id=request.org_id,
                target_type="org",
                target_id=str(request.org_id),
                details={"cap_micros": "none" if cap is None else str(cap)},
            )
        )
        await self._uow.commit()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowMemberCapRequest:
    actor: Principal
    org_id: OrgId


class ShowMemberCap:
    """The organization's monthly cap on each member's spending, in micro-units (None: no
    cap); any member may see it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: ShowMemberCapRequest) -> int | None:
        await callers_view(self._uow.orgs, request.actor, request.org_id)
        return await self._uow.ledger.member_cap(request.org_id)
