from datetime import date
from inspect import getdoc
from typing import Annotated
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from application.billing import (
    BudgetPolicy,
    SetMemberCap,
    SetMemberCapRequest,
    ShowMemberCap,
    ShowMemberCapRequest,
    ShowUsage,
    ShowUsageRequest,
    ShowUsageResult,
)
from application.ports.org_repository import MemberOrganization
from domain.billing.ledger import micros_text, parse_amount
from domain.identity.entities import UserId
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from entrypoints.http.auth import READS_ONLY, requires
from entrypoints.http.usage.schemas import (
    MemberCapOut,
    MemberCapUpdate,
    UsageOut,
    dimensions,
    usage_csv,
)

__all__ = ("MemberCapController", "OrgUsageController", "UserUsageController")

READ = {**requires(Scope.CONVERSATIONS_READ), **READS_ONLY}
ADMIN_READ = {**requires(Scope.ORG_ADMIN), **READS_ONLY}
ADMIN = requires(Scope.ORG_ADMIN)
CSV = "text/csv; charset=utf-8"

By = Annotated[
    str | None,
    QueryParameter(
        max_length=40,
        pattern=r"^(day|user|model)(,(day|user|model))*$",
        description="Break usage down by `day`, `user` and `model`, separated by commas.",
    ),
]
Since = Annotated[
    date | None,
    QueryParameter(description="The first day (UTC); default: the first of this month."),
]
Until = Annotated[date | None, QueryParameter(description="The last day (UTC); default: today.")]
Format = Annotated[
    str,
    QueryParameter(
        name="format", pattern="^(json|csv)$", description="`json`, or `csv` to export."
    ),
]


def _answer(result: ShowUsageResult, format_: str) -> Response[UsageOut] | Response[str]:
    if format_ == "csv":
        return Response(
            usage_csv(result),
            media_type=CSV,
            headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
        )
    return Response(UsageOut.from_result(result))


class UserUsageController(Controller):
    path = "/api/usage"
    tags = ["billing"]  # noqa: RUF012

    @get("/", operation_id="ShowMyUsage", description=getdoc(ShowUsage), opt=READ)
    @inject
    async def show_my_usage(
        self,
        actor: FromDishka[Principal],
        org: FromDishka[MemberOrganization],
        use_case: FromDishka[ShowUsage],
        by: By = None,
        since: Since = None,
        until: Until = None,
        format_: Format = "json",
    ) -> Response[UsageOut] | Response[str]:
        found = await use_case.execute(
            ShowUsageRequest(
                actor=actor,
                org_id=org.organization.id_,
                by=dimensions(by),
                since=since,
                until=until,
            )
        )
        return _answer(found, format_)


class OrgUsageController(Controller):
    path = "/api/orgs/{org_id:uuid}/usage"
    tags = ["billing"]  # noqa: RUF012

    @get("/", operation_id="ShowOrgUsage", description=getdoc(ShowUsage), opt=ADMIN_READ)
    @inject
    async def show_org_usage(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[ShowUsage],
        by: By = None,
        since: Since = None,
        until: Until = None,
        user_id: Annotated[
            UUID | None, QueryParameter(description="Only this member's usage.")
        ] = None,
        format_: Format = "json",
    ) -> Response[UsageOut] | Response[str]:
        found = await use_case.execute(
            ShowUsageRequest(
                actor=actor,
                org_id=OrgId(org_id),
                by=dimensions(by),
                since=since,
                until=until,
                user_id=None if user_id is None else UserId(user_id),
                everyone=True,
            )
        )
        return _answer(found, format_)


class MemberCapController(Controller):
    path = "/api/orgs/{org_id:uuid}/billing/member-cap"
    tags = ["billing"]  # noqa: RUF012

    @get("/", operation_id="ShowMemberCap", description=getdoc(ShowMemberCap), opt=READ)
    @inject
    async def show_member_cap(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[ShowMemberCap],
        policy: FromDishka[BudgetPolicy],
    ) -> MemberCapOut:
        cap = await use_case.execute(ShowMemberCapRequest(actor=actor, org_id=OrgId(org_id)))
        return MemberCapOut(
            member_monthly_cap=None if cap is None else micros_text(cap),
            currency=policy.currency,
        )

    @put("/", operation_id="SetMemberCap", description=getdoc(SetMemberCap), opt=ADMIN)
    @inject
    async def set_member_cap(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[MemberCapUpdate],
        actor: FromDishka[Principal],
        use_case: FromDishka[SetMemberCap],
        policy: FromDishka[BudgetPolicy],
    ) -> MemberCapOut:
        raw = data.member_monthly_cap
        cap = None if raw is None else parse_amount(raw, field="member_monthly_cap")
        await use_case.execute(
            SetMemberCapRequest(actor=actor, org_id=OrgId(org_id), cap_micros=cap)
        )
        return MemberCapOut(
            member_monthly_cap=None if cap is None else micros_text(cap), currency=policy.currency
        )
