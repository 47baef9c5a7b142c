"""The GitLab webhook source: the project webhooks the resolver installs (or an admin adds by
hand), each with its own secret token."""

from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from application.resolver.gitlab_events import gitlab_repository, read_gitlab_delivery
from application.resolver.reading import json_object
from application.resolver.repository_deliveries import hook_secrets, queue_trigger
from application.webhooks.sources import (
    DeliveryHeaders,
    SignedDelivery,
    WebhookSource,
    required_header,
    secret_matches,
)
from domain.git.providers import ProviderKind
from domain.resolver.triggers import ResolverPolicy
from domain.shared.errors import InvalidValueError
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError

__all__ = ("GitlabWebhooks",)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitlabWebhooks(WebhookSource):
    """A GitLab project's webhook: ``X-Gitlab-Token`` is the secret of the webhook on the
    project the delivery is about (compared in constant time with each kept for a project of
    that path); named by ``Idempotency-Key`` (the same on a retry, GitLab 17.4 and later),
    else ``X-Gitlab-Event-UUID``; its event in ``X-Gitlab-Event`` (kept as ``note_hook``,
    ``issue_hook``: an event name has no spaces).

    Processing turns a trigger on an issue or merge request (the label added, the handle
    mentioned in a new note) into a job that answers it in the organization that enabled the
    project; the account the replies are written as never triggers."""

    policy: ResolverPolicy
    name: str = "gitlab"
    max_body_bytes: int = 25 * 1024 * 1024
    """GitLab caps a webhook's payload at 25 MB by default."""

    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        raise WebhookSignatureError  # each project's webhook has its own secret: verify_stored

    async def verify_stored(
        self, headers: DeliveryHeaders, body: bytes, uow: UnitOfWork
    ) -> SignedDelivery:
        token = headers.get("x-gitlab-token", "")
        try:
            repository, _ = gitlab_repository(json_object(body))
        except InvalidValueError:
            raise WebhookSignatureError from None
        secrets = await hook_secrets(uow, ProviderKind.GITLAB, repository)
        if not token or not secret_matches(secrets, token):
            raise WebhookSignatureError
        delivery_id = headers.get("idempotency-key", "").strip()
        return SignedDelivery(
            delivery_id=delivery_id or required_header(headers, "X-Gitlab-Event-UUID"),
            event=_event_name(required_header(headers, "X-Gitlab-Event")),
        )

    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        try:
            read = read_gitlab_delivery(delivery.body)
        except InvalidValueError as exc:
            return f"ignored: {exc.message}"
        return await queue_trigger(uow, delivery, read, ProviderKind.GITLAB, self.policy)


def _event_name(header: str) -> str:
    return "_".join(header.lower().split())
