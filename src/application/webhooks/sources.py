"""What each webhook source is: how its deliveries are signed and named, and what processing
one of them does."""

import hashlib
import hmac
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from application.ports.unit_of_work import UnitOfWork
from domain.shared.errors import InvalidValueError
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError

__all__ = (
    "DeliveryHeaders",
    "GithubWebhooks",
    "SignedDelivery",
    "WebhookSource",
    "WebhookSources",
    "hmac_sha256_matches",
)

DeliveryHeaders = Mapping[str, str]
"""The delivery's HTTP headers, names lower-cased."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedDelivery:
    """What a verified delivery says about itself."""

    delivery_id: str
    event: str


class WebhookSource(Protocol):
    name: str
    max_body_bytes: int

    @abstractmethod
    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        """Check the signature over the exact body, in constant time
        (``WebhookSignatureError`` when it fails), and read the delivery's id and event
        (``InvalidValueError`` naming the header when missing)."""

    @abstractmethod
    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        """Do what the delivery asks, in ``uow`` (its caller commits, with the delivery marked
        processed); the outcome, in a few words. Safe to run again: a delivery whose
        processing was cut off is processed again."""


WebhookSources = Mapping[str, WebhookSource]
"""The sources configured, by the name in their address (``/api/webhooks/{name}``)."""


def hmac_sha256_matches(secrets: tuple[str, ...], body: bytes, signature_hex: str) -> bool:
    """Whether one of ``secrets`` signed ``body`` with this HMAC-SHA256 (hex), comparing each
    in constant time; every secret is tried, so the time says nothing about which matched."""
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected, signature_hex.lower())
    return matched


def _header(headers: DeliveryHeaders, name: str) -> str:
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise InvalidValueError(f"The delivery has no {name} header.", field=name)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class GithubWebhooks(WebhookSource):
    """A GitHub App's or repository's webhook: signed in ``X-Hub-Signature-256``
    (``sha256=<hex HMAC of the body>``), named by ``X-GitHub-Delivery`` (the same on a
    redelivery) and ``X-GitHub-Event``. Several secrets may be configured while one is
    rotated. Processing acknowledges every event; the resolver's triggers act on issues,
    comments and installations."""

    secrets: tuple[str, ...]
    name: str = "github"
    max_body_bytes: int = 25 * 1024 * 1024
    """GitHub caps a payload at 25 MB and drops larger ones itself."""

    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        scheme, _, signature = headers.get("x-hub-signature-256", "").partition("=")
        if scheme != "sha256" or not hmac_sha256_matches(self.secrets, body, signature):
            raise WebhookSignatureError
        return SignedDelivery(
            delivery_id=_header(headers, "X-GitHub-Delivery"),
            event=_header(headers, "X-GitHub-Event"),
        )

    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        del uow
        if delivery.event == "ping":
            return "pong"
        return f"ignored: nothing acts on {delivery.event} events"
