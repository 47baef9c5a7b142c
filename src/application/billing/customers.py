from application.ports.org_repository import MemberOrganization
from application.ports.payment_gateway import PaymentGateway
from application.ports.unit_of_work import UnitOfWork

__all__ = ("customer_of",)


async def customer_of(uow: UnitOfWork, gateway: PaymentGateway, view: MemberOrganization) -> str:
    """The organization's customer at the provider, made on its first purchase. Two first
    purchases at once make one: the create's idempotency key is the organization's id, and
    the first customer kept wins."""
    org = view.organization
    kept = await uow.billing.customer(org.id_)
    if kept is not None:
        return kept
    made = await gateway.create_customer(
        org.name.value, {"org_id": str(org.id_)}, key=f"customer-{org.id_}"
    )
    return await uow.billing.keep_customer(org.id_, made)
