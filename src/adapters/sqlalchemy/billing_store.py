from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import BillingCustomerRow, PurchaseRow, SubscriptionRow
from application.ports.billing_store import BillingStore
from domain.billing.payments import Purchase, PurchaseId, PurchaseStatus, Subscription
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId

__all__ = ("SqlaBillingStore",)


def _purchase(row: PurchaseRow) -> Purchase:
    return Purchase(
        id_=PurchaseId(row.id),
        org_id=OrgId(row.org_id),
        user_id=UserId(row.user_id),
        amount_micros=row.amount_micros,
        currency=row.currency,
        created_at=row.created_at,
        checkout_session_id=row.checkout_session_id,
        status=PurchaseStatus(row.status),
        paid_at=row.paid_at,
    )


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        subscription_id=row.subscription_id,
        org_id=OrgId(row.org_id),
        customer_id=row.customer_id,
        status=row.status,
        price_id=row.price_id,
        current_period_end=row.current_period_end,
        cancel_at_period_end=row.cancel_at_period_end,
        event_created=row.last_event_created,
    )


class SqlaBillingStore(BillingStore):
    """``billing_customers``, ``purchases`` and ``subscriptions``. A subscription is written
    by one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the stored event is older, so two
    events racing leave the newer one, whichever commits last."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def customer(self, org_id: OrgId) -> str | None:
        query = select(BillingCustomerRow.customer_id).where(BillingCustomerRow.org_id == org_id)
        async with translate_db_errors():
            return (await self._session.execute(query)).scalar()

    async def keep_customer(self, org_id: OrgId, customer_id: str) -> str:
        insert = (
            dialect_insert(self._session, BillingCustomerRow)
            .values(org_id=org_id, customer_id=customer_id)
            .on_conflict_do_nothing(index_elements=["org_id"])
        )
        async with translate_db_errors():
            await self._session.execute(insert)
        kept = await self.customer(org_id)
        assert kept is not None
        return kept

    async def org_of_customer(self, customer_id: str) -> OrgId | None:
        query = select(BillingCustomerRow.org_id).where(
            BillingCustomerRow.customer_id == customer_id
        )
        async with translate_db_errors():
            found = (await self._session.execute(query)).scalar()
        return None if found is None else OrgId(found)

    async def add_purchase(self, purchase: Purchase) -> None:
        self._session.add(
            PurchaseRow(
                id=purchase.id_,
                org_id=purchase.org_id,
                user_id=purchase.user_id,
                amount_micros=purchase.amount_micros,
                currency=purchase.currency,
                checkout_session_id=purchase.checkout_session_id,
                status=purchase.status.value,
                created_at=purchase.created_at,
                paid_at=purchase.paid_at,
            )
        )
        async with translate_db_errors():
            await self._session.flush()

    async def purchase(self, purchase_id: PurchaseId) -> Purchase | None:
        query = select(PurchaseRow).where(PurchaseRow.id == purchase_id)
        async with translate_db_errors():
            row = (await self._session.scalars(query)).first()
        return None if row is None else _purchase(row)

    async def attach_checkout(self, purchase_id: PurchaseId, session_id: str) -> None:
        change = (
            update(PurchaseRow)
            .where(PurchaseRow.id == purchase_id)
            .values(checkout_session_id=session_id)
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            await self._session.execute(change)

    async def mark_paid(self, purchase_id: PurchaseId, at: datetime) -> bool:
        change = (
            update(PurchaseRow)
            .where(PurchaseRow.id == purchase_id, PurchaseRow.status != PurchaseStatus.PAID.value)
            .values(status=PurchaseStatus.PAID.value, paid_at=at)
            .returning(PurchaseRow.id)
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            return (await self._session.execute(change)).first() is not None

    async def mark_failed(self, purchase_id: PurchaseId) -> bool:
        change = (
            update(PurchaseRow)
            .where(
                PurchaseRow.id == purchase_id, PurchaseRow.status == PurchaseStatus.PENDING.value
            )
            .values(status=PurchaseStatus.FAILED.value)
            .returning(PurchaseRow.id)
            .execution_options(synchronize_session=False)
        )
        async with translate_db_errors():
            return (await self._session.execute(change)).first() is not None

    async def subscription(self, org_id: OrgId) -> Subscription | None:
        query = (
            select(SubscriptionRow)
            .where(SubscriptionRow.org_id == org_id)
            .order_by(SubscriptionRow.last_event_created.desc())
            .limit(1)
        )
        async with translate_db_errors():
            row = (await self._session.scalars(query)).first()
        return None if row is None else _subscription(row)

    async def save_subscription(self, subscription: Subscription) -> bool:
        values = {
            "org_id": subscription.org_id,
            "customer_id": subscription.customer_id,
            "status": subscription.status,
            "price_id": subscription.price_id,
            "current_period_end": subscription.current_period_end,
            "cancel_at_period_end": subscription.cancel_at_period_end,
            "last_event_created": subscription.event_created,
        }
        upsert = dialect_insert(self._session, SubscriptionRow).values(
            subscription_id=subscription.subscription_id, **values
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["subscription_id"],
            set_=values,
            where=SubscriptionRow.last_event_created < upsert.excluded.last_event_created,
        ).returning(SubscriptionRow.subscription_id)
        async with translate_db_errors():
            return (await self._session.execute(upsert)).first() is not None
