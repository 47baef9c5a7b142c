from inspect import getdoc
from typing import Annotated
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from application.billing import (
    BuyCredits,
    BuyCreditsRequest,
    GetBilling,
    GetBillingRequest,
    OpenBillingPortal,
    OpenBillingPortalRequest,
    ShowPurchase,
    ShowPurchaseRequest,
    SubscribeToPlan,
    SubscribeToPlanRequest,
)
from application.rate_limits import CostlyAction
from domain.billing.payments import PurchaseId
from domain.identity.principals import Principal
from domain.identity.scopes import Scope
from domain.organizations.entities import OrgId
from entrypoints.http.auth import requires
from entrypoints.http.billing.schemas import (
    BillingOut,
    CheckoutOut,
    CreditPurchase,
    PortalOut,
    PurchaseOut,
)
from entrypoints.http.rate_limits import costs

__all__ = ("BillingController",)

ADMIN = requires(Scope.ORG_ADMIN)
CHECKOUT = {**ADMIN, **costs(CostlyAction.CHECKOUT)}


class BillingController(Controller):
    path = "/api/orgs/{org_id:uuid}/billing"
    tags = ["billing"]  # noqa: RUF012

    @get("/", operation_id="GetBilling", description=getdoc(GetBilling), opt=ADMIN)
    @inject
    async def get_billing(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[GetBilling],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> BillingOut:
        found = await use_case.execute(
            GetBillingRequest(actor=actor, org_id=OrgId(org_id), limit=limit)
        )
        return BillingOut.from_result(found)

    @post("/checkout", operation_id="BuyCredits", description=getdoc(BuyCredits), opt=CHECKOUT)
    @inject
    async def buy_credits(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[CreditPurchase],
        actor: FromDishka[Principal],
        use_case: FromDishka[BuyCredits],
    ) -> Response[CheckoutOut]:
        bought = await use_case.execute(
            BuyCreditsRequest(actor=actor, org_id=OrgId(org_id), amount=data.amount)
        )
        location = f"/api/orgs/{org_id}/billing/purchases/{bought.purchase.id_}"
        return Response(
            CheckoutOut.of_purchase(bought), status_code=201, headers={"Location": location}
        )

    @get(
        "/purchases/{purchase_id:uuid}",
        operation_id="GetPurchase",
        description=getdoc(ShowPurchase),
        opt=ADMIN,
    )
    @inject
    async def purchase(
        self,
        org_id: FromPath[UUID],
        purchase_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[ShowPurchase],
    ) -> PurchaseOut:
        found = await use_case.execute(
            ShowPurchaseRequest(
                actor=actor, org_id=OrgId(org_id), purchase_id=PurchaseId(purchase_id)
            )
        )
        return PurchaseOut.from_entity(found)

    @post(
        "/subscription",
        operation_id="SubscribeToPlan",
        description=getdoc(SubscribeToPlan),
        opt=CHECKOUT,
    )
    @inject
    async def subscribe(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[SubscribeToPlan],
    ) -> Response[CheckoutOut]:
        url = await use_case.execute(SubscribeToPlanRequest(actor=actor, org_id=OrgId(org_id)))
        return Response(CheckoutOut(checkout_url=url), status_code=201)

    @post(
        "/portal",
        operation_id="OpenBillingPortal",
        description=getdoc(OpenBillingPortal),
        opt=ADMIN,
    )
    @inject
    async def portal(
        self,
        org_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[OpenBillingPortal],
    ) -> Response[PortalOut]:
        url = await use_case.execute(OpenBillingPortalRequest(actor=actor, org_id=OrgId(org_id)))
        return Response(PortalOut(url=url), status_code=201)
