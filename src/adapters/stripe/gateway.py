"""The payment gateway on Stripe's API, through the ``stripe`` SDK's async client."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import stripe
from stripe import StripeClient, StripeError

from application.ports.payment_gateway import (
    CheckoutMode,
    CheckoutSession,
    NewCheckout,
    PaymentGateway,
    PaymentProviderError,
    ProviderCharge,
    ProviderRefund,
    ProviderSubscription,
)

__all__ = ("StripePaymentGateway",)


class _HttpxClient(stripe.HTTPXClient):
    """The SDK's httpx client, sending a form body as ``content``: httpx deprecates posting
    a string as ``data``, which the SDK still does."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return [args, kwargs]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id_of(value: object) -> str | None:
    """An expandable field: its id, whether Stripe sent the id or the object."""
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(value)


def _instant(value: object) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def _session(data: Mapping[str, Any]) -> CheckoutSession:
    metadata = data.get("metadata") or {}
    amount = data.get("amount_total")
    return CheckoutSession(
        id_=str(data["id"]),
        mode=CheckoutMode(data.get("mode", "payment")),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        url=_text(data.get("url")),
        amount_total=amount if isinstance(amount, int) else None,
        currency=_text(data.get("currency")),
        reference=_text(data.get("client_reference_id")),
        metadata={str(k): str(v) for k, v in metadata.items()},
        customer_id=_id_of(data.get("customer")),
        subscription_id=_id_of(data.get("subscription")),
    )


def _subscription(data: Mapping[str, Any]) -> ProviderSubscription:
    items = (data.get("items") or {}).get("data") or [{}]
    first: Mapping[str, Any] = items[0]
    price = _id_of(first.get("price")) or _id_of(first.get("plan"))
    period_end = first.get("current_period_end", data.get("current_period_end"))
    return ProviderSubscription(
        id_=str(data["id"]),
        customer_id=str(_id_of(data.get("customer")) or ""),
        status=str(data.get("status") or ""),
        price_id=price,
        current_period_end=_instant(period_end),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
    )


def _charge(data: Mapping[str, Any]) -> ProviderCharge:
    refunds = (data.get("refunds") or {}).get("data") or []
    return ProviderCharge(
        id_=str(data["id"]),
        customer_id=_id_of(data.get("customer")),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        refunds=tuple(
            ProviderRefund(
                id_=str(refund["id"]),
                amount=int(refund.get("amount") or 0),
                status=str(refund.get("status") or ""),
            )
            for refund in refunds
        ),
    )


class StripePaymentGateway(PaymentGateway):
    """Stripe's API at ``api_base`` (Stripe's own unless a stand-in is configured). Stripe
    errors and network failures become ``PaymentProviderError``; a lookup Stripe answers with
    404 is None."""

    def __init__(self, secret_key: str, *, api_base: str | None = None) -> None:
        self._http = _HttpxClient(timeout=30)
        self._client = StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=2,
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # the SDK's, unannotated

    async def create_customer(self, name: str, metadata: Mapping[str, str], key: str) -> str:
        try:
            created = await self._client.v1.customers.create_async(
                params={"name": name, "metadata": dict(metadata)},
                options={"idempotency_key": key},
            )
        except StripeError as exc:
            raise _failed(exc) from exc
        return str(created.id)

    async def create_checkout(self, checkout: NewCheckout) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": checkout.mode.value,
            "customer": checkout.customer_id,
            "client_reference_id": checkout.reference,
            "metadata": dict(checkout.metadata),
            "success_url": checkout.success_url,
            "cancel_url": checkout.cancel_url,
        }
        if checkout.mode is CheckoutMode.PAYMENT:
            params["line_items"] = [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": checkout.currency,
                        "unit_amount": checkout.amount_minor,
                        "product_data": {"name": checkout.description or "Credits"},
                    },
                }
            ]
        else:
            params["line_items"] = [{"quantity": 1, "price": checkout.price_id}]
            params["subscription_data"] = {"metadata": dict(checkout.metadata)}
        try:
            created = await self._client.v1.checkout.sessions.create_async(
                params=cast("Any", params), options={"idempotency_key": checkout.idempotency_key}
            )
        except StripeError as exc:
            raise _failed(exc) from exc
        return _session(created.to_dict())

    async def get_checkout(self, session_id: str) -> CheckoutSession | None:
        try:
            found = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        except StripeError as exc:
            _raise_unless_absent(exc)
            return None
        return _session(found.to_dict())

    async def create_portal(self, customer_id: str, return_url: str, key: str) -> str:
        try:
            created = await self._client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id, "return_url": return_url},
                options={"idempotency_key": key},
            )
        except StripeError as exc:
            raise _failed(exc) from exc
        return str(created.url)

    async def get_subscription(self, subscription_id: str) -> ProviderSubscription | None:
        try:
            found = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        except StripeError as exc:
            _raise_unless_absent(exc)
            return None
        return _subscription(found.to_dict())

    async def get_charge(self, charge_id: str) -> ProviderCharge | None:
        try:
            found = await self._client.v1.charges.retrieve_async(
                charge_id, params={"expand": ["refunds"]}
            )
        except StripeError as exc:
            _raise_unless_absent(exc)
            return None
        return _charge(found.to_dict())


def _failed(exc: StripeError) -> PaymentProviderError:
    status = exc.http_status or "no answer"
    return PaymentProviderError(
        f"The payment provider refused or failed the request ({status}); try again shortly."
    )


def _raise_unless_absent(exc: StripeError) -> None:
    """Nothing, when Stripe answered 404: it knows no such object."""
    if exc.http_status != 404:
        raise _failed(exc) from exc
