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
from domain.webhooks.entities import WebhookDelivery

__all__ = (
    "DeliveryHeaders",
    "SignedDelivery",
    "WebhookSource",
    "WebhookSources",
    "hmac_sha256_matches",
    "required_header",
    "secret_matches",
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

    async def verify_stored(
        self, headers: DeliveryHeaders, body: bytes, uow: UnitOfWork
    ) -> SignedDelivery:
        """As ``verify``, for a source whose secrets are kept with what they sign for (each
        repository's webhook its own), read in ``uow``; by default the source's own."""
        return self.verify(headers, body)

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


def secret_matches(secrets: tuple[str, ...], given: str) -> bool:
    """Whether ``given`` is one of ``secrets`` (a plain token, as GitLab sends), comparing each
    in constant time and trying every one."""
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(secret.encode(), given.encode())
    return matched


def required_header(headers: DeliveryHeaders, name: str) -> str:
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise InvalidValueError(f"The delivery has no {name} header.", field=name)
    return value
