from dataclasses import dataclass
from decimal import Decimal

from application.billing.customers import customer_of
from application.billing.policy import BillingPolicy, billing_admin_view
from application.ports.clock import Clock
from application.ports.payment_gateway import (
    CheckoutMode,
    CheckoutSession,
    NewCheckout,
    PaymentGateway,
    PaymentProviderError,
)
from application.ports.unit_of_work import UnitOfWork
from domain.billing.ledger import MICROS_PER_UNIT, micros
from domain.billing.payments import CreditAmountError, Purchase, PurchaseId, minor_units
from domain.identity.principals import Principal
from domain.organizations.entities import OrgId

__all__ = ("BuyCredits", "BuyCreditsRequest", "BuyCreditsResult", "purchase_url")


def purchase_url(policy: BillingPolicy, org_id: OrgId, purchase_id: PurchaseId) -> str:
    """Where the browser comes back to after the checkout: the purchase's own address."""
    return f"{policy.public_url}/api/orgs/{org_id}/billing/purchases/{purchase_id}"


def _decimal(amount_micros: int) -> Decimal:
    return Decimal(amount_micros) / MICROS_PER_UNIT


def _units(amount_micros: int) -> str:
    return f"{_decimal(amount_micros).normalize():f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyCreditsRequest:
    actor: Principal
    org_id: OrgId
    amount: Decimal
    """In units of the configured currency."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyCreditsResult:
    purchase: Purchase
    checkout_url: str


class BuyCredits:
    """Open a hosted checkout for credits; for the organization's owner and admins. The
    purchase is kept first and its id names the checkout (reference, metadata and
    idempotency key), so a retry after a lost answer opens the same checkout, and what is
    paid is credited once, by the provider's webhook or the browser's return, whichever comes
    first. Nothing is credited here."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, gateway: PaymentGateway, policy: BillingPolicy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._gateway = gateway
        self._policy = policy

    async def execute(self, request: BuyCreditsRequest) -> BuyCreditsResult:
        policy = self._policy
        policy.require_enabled()
        view = await billing_admin_view(self._uow, request.actor, request.org_id)
        low, high = _decimal(policy.min_micros), _decimal(policy.max_micros)
        if not request.amount.is_finite() or not low <= request.amount <= high:
            raise CreditAmountError(
                f"An organization buys between {_units(policy.min_micros)} and "
                f"{_units(policy.max_micros)} {policy.currency.upper()} of credits at once.",
                field="amount",
            )
        amount = micros(request.amount)
        minor = minor_units(amount, policy.currency)
        purchase = Purchase.start(
            org_id=request.org_id,
            user_id=request.actor.user.id_,
            amount_micros=amount,
            currency=policy.currency,
            now=self._clock.now(),
        )
        customer = await customer_of(self._uow, self._gateway, view)
        await self._uow.billing.add_purchase(purchase)
        await self._uow.commit()
        back = purchase_url(policy, request.org_id, purchase.id_)
        session = await self._opened(
            purchase.id_,
            NewCheckout(
                mode=CheckoutMode.PAYMENT,
                customer_id=customer,
                reference=str(purchase.id_),
                metadata={"org_id": str(request.org_id), "purchase_id": str(purchase.id_)},
                success_url=f"{back}?session_id={{CHECKOUT_SESSION_ID}}",
                cancel_url=back,
                idempotency_key=str(purchase.id_),
                amount_minor=minor,
                currency=policy.currency,
                description=f"Maestrist credits for {view.organization.name.value}",
            ),
        )
        await self._uow.billing.attach_checkout(purchase.id_, session.id_)
        await self._uow.commit()
        if session.url is None:
            raise PaymentProviderError("The payment provider opened a checkout with no address.")
        return BuyCreditsResult(
            purchase=purchase.with_checkout(session.id_), checkout_url=session.url
        )

    async def _opened(self, purchase_id: PurchaseId, checkout: NewCheckout) -> CheckoutSession:
        """The checkout the provider opened for the purchase; a purchase it refused or could
        not be reached for is marked failed, so it is not left pending for ever."""
        try:
            return await self._gateway.create_checkout(checkout)
        except PaymentProviderError:
            await self._uow.rollback()
            await self._uow.billing.mark_failed(purchase_id)
            await self._uow.commit()
            raise
