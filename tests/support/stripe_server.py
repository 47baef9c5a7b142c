"""Stripe on loopback for tests: the ``localstripe`` server (customers, payment methods, charges,
refunds) in a process of its own, extended with what it lacks and the server uses: Checkout
sessions (payment and subscription modes), customer-portal sessions, prices, subscriptions made
by a paid checkout, and the replay of a create sent again with its ``Idempotency-Key``.

    python -m tests.support.stripe_server    # prints ``listening <port>``, serves until killed

A test "pays" a checkout as the browser would, ``POST /_test/checkout/{id}/pay?card=<number>``:
the card is charged (``4000000000000341`` is declined: 402, no event) and a
``checkout.session.completed`` event, signed as Stripe signs (``Stripe-Signature:
t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">``), is posted to every webhook registered with
``POST /_test/webhooks/{id}`` (``{"url", "secret"}``). Only these events are sent: localstripe's
own (customer and charge events, sent a second late) would arrive at no predictable moment.
The events localstripe cannot send (invoices paid, refunds, disputes, subscription changes) a
test signs itself with ``signed_event``, at any timestamp.
"""

import asyncio
import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import ClientSession, web

__all__ = (
    "DECLINED_CARD",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "StripeStandIn",
    "running_stripe",
    "signed_event",
    "stripe_signature",
    "webhook_relay",
)

STRIPE_API_KEY = "sk_test_maestrist_loopback"
STRIPE_WEBHOOK_SECRET = "whsec_maestrist_loopback_secret"
DECLINED_CARD = "4000000000000341"
PAYING_CARD = "4242424242424242"
API_VERSION = "2026-10-28.endive"


def stripe_signature(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``body`` signed at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _random(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def signed_event(
    kind: str,
    data_object: Mapping[str, Any],
    *,
    secret: str = STRIPE_WEBHOOK_SECRET,
    created: int | None = None,
    signed_at: int | None = None,
    event_id: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a Stripe event delivery about ``data_object``, made at
    ``created`` and signed at ``signed_at`` (both now by default)."""
    made = int(time.time()) if created is None else created
    event = {
        "id": event_id or _random("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": made,
        "data": {"object": dict(data_object)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    body = json.dumps(event, indent=2).encode()
    stamp = made if signed_at is None else signed_at
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": stripe_signature(body, secret, stamp),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }


# --- the server, in its own process -------------------------------------------------------


def _serve() -> None:  # pragma: no cover - runs in the child process
    from localstripe import resources, server  # noqa: PLC0415 - the child's only
    from localstripe.errors import UserError  # noqa: PLC0415

    type(resources.store).dump_to_disk = lambda _self: None  # one process, nothing shared
    type(resources.store).try_load_from_disk = lambda _self: None
    app: web.Application = server.app
    sessions: dict[str, dict[str, Any]] = {}
    prices: dict[str, dict[str, Any]] = {}
    subscriptions: dict[str, dict[str, Any]] = {}
    replies: dict[tuple[str, str], tuple[int, bytes]] = {}
    hooks: dict[str, tuple[str, str]] = {}
    """Where the events the stand-in makes go, with the secret each is signed with; none of
    localstripe's own events (it registers its endpoints apart, and none is registered)."""
    base = {"url": ""}

    def reply(body: Mapping[str, Any], status: int = 200) -> web.Response:
        return web.json_response(dict(body), status=status)

    def need(data: Mapping[str, Any], name: str) -> Any:
        if data.get(name) in (None, ""):
            raise UserError(400, f"Missing required param: {name}.", {"param": name})
        return data[name]

    async def create_session(request: web.Request) -> web.Response:
        data = await server.get_post_data(request) or {}
        mode = need(data, "mode")
        customer = data.get("customer")
        if customer is not None:
            resources.Customer._api_retrieve(customer)
        line = need(data, "line_items")[0]
        quantity = int(line.get("quantity", 1))
        if mode == "payment":
            price_data = need(line, "price_data")
            amount = int(need(price_data, "unit_amount")) * quantity
            currency = need(price_data, "currency")
            price_id = None
        elif mode == "subscription":
            price_id = need(line, "price")
            price = prices.get(price_id)
            if price is None:
                raise UserError(400, f"No such price: '{price_id}'", {"param": "line_items"})
            amount, currency = price["unit_amount"] * quantity, price["currency"]
        else:
            raise UserError(400, f"Invalid mode: {mode}", {"param": "mode"})
        session_id = _random("cs_test")
        sessions[session_id] = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": currency,
            "customer": customer,
            "client_reference_id": data.get("client_reference_id"),
            "metadata": data.get("metadata") or {},
            "success_url": str(need(data, "success_url")).replace(
                "{CHECKOUT_SESSION_ID}", session_id
            ),
            "cancel_url": data.get("cancel_url"),
            "url": f"{base['url']}/checkout/{session_id}",
            "subscription": None,
            "payment_intent": None,
            "created": int(time.time()),
            "livemode": False,
            "_price": price_id,
            "_subscription_metadata": (data.get("subscription_data") or {}).get("metadata") or {},
        }
        return reply(_public(sessions[session_id]))

    def _public(session: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def found(table: Mapping[str, dict[str, Any]], request: web.Request) -> dict[str, Any]:
        kept = table.get(request.match_info["id"])
        if kept is None:
            raise UserError(404, "No such object", {"code": "resource_missing"})
        return kept

    async def get_session(request: web.Request) -> web.Response:
        return reply(_public(found(sessions, request)))

    async def create_portal(request: web.Request) -> web.Response:
        data = await server.get_post_data(request) or {}
        resources.Customer._api_retrieve(need(data, "customer"))
        portal_id = _random("bps")
        return reply(
            {
                "id": portal_id,
                "object": "billing_portal.session",
                "customer": data["customer"],
                "return_url": data.get("return_url"),
                "url": f"{base['url']}/portal/{portal_id}",
            }
        )

    async def create_price(request: web.Request) -> web.Response:
        data = await server.get_post_data(request) or {}
        price_id = _random("price")
        prices[price_id] = {
            "id": price_id,
            "object": "price",
            "currency": need(data, "currency"),
            "unit_amount": int(need(data, "unit_amount")),
            "recurring": data.get("recurring"),
            "active": True,
        }
        return reply(prices[price_id])

    async def get_price(request: web.Request) -> web.Response:
        return reply(found(prices, request))

    def subscribe(session: dict[str, Any]) -> str:
        subscription_id = _random("sub")
        period_end = int(time.time()) + 30 * 86400
        subscriptions[subscription_id] = {
            "id": subscription_id,
            "object": "subscription",
            "customer": session["customer"],
            "status": "active",
            "cancel_at_period_end": False,
            "metadata": session["_subscription_metadata"],
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _random("si"),
                        "object": "subscription_item",
                        "price": prices[session["_price"]],
                        "current_period_end": period_end,
                    }
                ],
            },
            "created": int(time.time()),
        }
        return subscription_id

    async def deliver(event: Mapping[str, Any]) -> list[int]:
        body = json.dumps(event, indent=2).encode()
        answers = []
        async with ClientSession() as client:
            for url, secret in list(hooks.values()):
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": stripe_signature(body, secret, event["created"]),
                }
                async with client.post(url, data=body, headers=headers) as answer:
                    answers.append(answer.status)
        return answers

    async def pay(request: web.Request) -> web.Response:
        session = found(sessions, request)
        if session["status"] != "open":
            raise UserError(400, f"The session is {session['status']}.")
        card = request.query.get("card", PAYING_CARD)
        method = resources.PaymentMethod._api_create(
            type="card",
            card={"number": card, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
        )
        charge = resources.Charge._api_create(
            amount=session["amount_total"],
            currency=session["currency"],
            customer=session["customer"],
            source=method.id,
        )
        session.update(status="complete", payment_status="paid")
        session["payment_intent"] = _random("pi")
        if session["mode"] == "subscription":
            session["subscription"] = subscribe(session)
        event = {
            "id": _random("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": _public(session)},
            "livemode": False,
            "pending_webhooks": len(hooks),
            "type": "checkout.session.completed",
        }
        deliver_now = request.query.get("deliver", "true") != "false"
        delivered = await deliver(event) if deliver_now else []
        return reply(
            {
                "event": event,
                "charge": charge.id,
                "subscription": session["subscription"],
                "delivered": delivered,
            }
        )

    async def register(request: web.Request) -> web.Response:
        data = await request.json()
        hooks[request.match_info["id"]] = (str(need(data, "url")), str(need(data, "secret")))
        return reply({"id": request.match_info["id"]})

    async def change_subscription(request: web.Request) -> web.Response:
        kept = found(subscriptions, request)
        changes = await request.json()
        kept.update({k: v for k, v in changes.items() if k in {"status", "cancel_at_period_end"}})
        return reply(kept)

    @web.middleware
    async def standing_in(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Subscriptions a checkout made are ours, not localstripe's; a create sent again with
        its ``Idempotency-Key`` gets the first answer again, creating nothing."""
        prefix, _, subscription_id = request.path.rpartition("/")
        ours = prefix == "/v1/subscriptions" and subscription_id in subscriptions
        if request.method == "GET" and ours:
            return reply(subscriptions[subscription_id])
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        kept = replies.get((key, request.path))
        if kept is not None:
            status, body = kept
            return web.Response(body=body, status=status, content_type="application/json")
        answer = await handler(request)
        if isinstance(answer, web.Response) and answer.body is not None and answer.status < 500:
            replies[(key, request.path)] = (answer.status, bytes(answer.body))  # type: ignore[arg-type]
        return answer

    app.middlewares.append(standing_in)
    app.router.add_post("/v1/checkout/sessions", create_session)
    app.router.add_get("/v1/checkout/sessions/{id}", get_session)
    app.router.add_post("/v1/billing_portal/sessions", create_portal)
    app.router.add_post("/v1/prices", create_price)
    app.router.add_get("/v1/prices/{id}", get_price)
    app.router.add_post("/_test/checkout/{id}/pay", pay)
    app.router.add_post("/_test/subscriptions/{id}", change_subscription)
    app.router.add_post("/_test/webhooks/{id}", register)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    base["url"] = f"http://127.0.0.1:{port}"
    sys.stdout.write(f"listening {port}\n")
    sys.stdout.flush()
    web.run_app(app, sock=listener, print=None, access_log=None, handle_signals=True)


# --- what tests hold -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StripeStandIn:
    """The running stand-in: its API base, and what a test does there besides the server."""

    url: str
    api_key: str = STRIPE_API_KEY

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )

    async def _post(self, path: str, **kwargs: Any) -> Any:
        async with self._client() as client:
            answer = await client.post(path, **kwargs)
        if answer.status_code >= 400:
            raise StripeRefusedError(answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def register_webhook(self, url: str, secret: str = STRIPE_WEBHOOK_SECRET) -> None:
        """Every paid checkout's event goes to ``url`` (replacing the last one registered)."""
        await self._post("/_test/webhooks/maestrist", json={"url": url, "secret": secret})

    async def pay(
        self, session_id: str, card: str = PAYING_CARD, *, deliver: bool = True
    ) -> dict[str, Any]:
        """Pay the checkout as its browser would: ``event`` (delivered, signed, to the
        registered webhook unless not ``deliver``; ``delivered``, each answer's status),
        ``charge`` and, in subscription mode, ``subscription``."""
        params = {"card": card, "deliver": str(deliver).lower()}
        paid: dict[str, Any] = await self._post(f"/_test/checkout/{session_id}/pay", params=params)
        return paid

    async def create_price(self, unit_amount: int, currency: str = "usd") -> str:
        created = await self._post(
            "/v1/prices",
            data={
                "unit_amount": str(unit_amount),
                "currency": currency,
                "recurring[interval]": "month",
            },
        )
        return str(created["id"])

    async def refund(self, charge_id: str, amount: int) -> str:
        created = await self._post("/v1/refunds", data={"charge": charge_id, "amount": amount})
        return str(created["id"])

    async def change_subscription(self, subscription_id: str, **changes: Any) -> dict[str, Any]:
        changed: dict[str, Any] = await self._post(
            f"/_test/subscriptions/{subscription_id}", json=changes
        )
        return changed

    async def get(self, path: str) -> dict[str, Any]:
        async with self._client() as client:
            answer = await client.get(path)
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found


class StripeRefusedError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status


@contextmanager
def running_stripe() -> Iterator[StripeStandIn]:
    """The stand-in in a child process of its own, until the block ends."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.stripe_server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline().split()
        if first[:1] != ["listening"]:
            raise RuntimeError(f"the Stripe stand-in did not start: {first}")
        yield StripeStandIn(f"http://127.0.0.1:{first[1]}")
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


@asynccontextmanager
async def webhook_relay(client: httpx.AsyncClient) -> AsyncIterator[str]:
    """A loopback address whose ``POST /api/webhooks/{source}`` is passed, body and headers
    as they came, to the app behind ``client`` (an app served in this process has no address
    of its own for the stand-in to post to); yields the address of the stripe source."""

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in {"content-type", "stripe-signature", "user-agent"}
        }
        answer = await client.post(request.path, content=body, headers=headers)
        # Each connection ends with its answer, so none outlives the relay (and its loop).
        return web.Response(
            body=answer.content, status=answer.status_code, headers={"Connection": "close"}
        )

    relay = web.Application()
    relay.router.add_post("/api/webhooks/{source}", forward)
    runner = web.AppRunner(relay, access_log=None, keepalive_timeout=0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/api/webhooks/stripe"
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    _serve()
