"""The Bitbucket Cloud webhook source: the repository webhooks the resolver installs (or an
admin adds by hand), each signing with its own secret."""

from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from application.resolver.bitbucket_events import bitbucket_repository, read_bitbucket_delivery
from application.resolver.reading import json_object
from application.resolver.repository_deliveries import hook_secrets, queue_trigger
from application.webhooks.sources import (
    DeliveryHeaders,
    SignedDelivery,
    WebhookSource,
    hmac_sha256_matches,
    required_header,
)
from domain.git.providers import ProviderKind
from domain.resolver.triggers import ResolverPolicy
from domain.shared.errors import InvalidValueError
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError

__all__ = ("BitbucketWebhooks",)


@dataclass(frozen=True, slots=True, kw_only=True)
class BitbucketWebhooks(WebhookSource):
    """A Bitbucket Cloud repository's webhook: signed in ``X-Hub-Signature``
    (``sha256=<hex HMAC of the body>``) with the secret of the webhook on the repository the
    delivery is about; named by ``X-Request-UUID``, its event in ``X-Event-Key``.

    Processing turns a mention of the handle in a new issue or pull request comment into a
    job that answers it in the organization that enabled the repository; the account the
    replies are written as never triggers."""

    policy: ResolverPolicy
    name: str = "bitbucket"
    max_body_bytes: int = 10 * 1024 * 1024

    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        raise WebhookSignatureError  # each repository's webhook has its own secret

    async def verify_stored(
        self, headers: DeliveryHeaders, body: bytes, uow: UnitOfWork
    ) -> SignedDelivery:
        scheme, _, signature = headers.get("x-hub-signature", "").partition("=")
        try:
            repository, _ = bitbucket_repository(json_object(body))
        except InvalidValueError:
            raise WebhookSignatureError from None
        secrets = await hook_secrets(uow, ProviderKind.BITBUCKET, repository)
        if scheme != "sha256" or not hmac_sha256_matches(secrets, body, signature):
            raise WebhookSignatureError
        return SignedDelivery(
            delivery_id=required_header(headers, "X-Request-UUID"),
            event=required_header(headers, "X-Event-Key"),
        )

    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        try:
            read = read_bitbucket_delivery(delivery.event, delivery.body)
        except InvalidValueError as exc:
            return f"ignored: {exc.message}"
        return await queue_trigger(uow, delivery, read, ProviderKind.BITBUCKET, self.policy)
