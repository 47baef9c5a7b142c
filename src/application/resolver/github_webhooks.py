"""The GitHub webhook source: deliveries of a GitHub App (or a repository's webhook), and what
processing them does for the resolver."""

from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from application.resolver.answer_trigger import ResolverTrigger
from application.resolver.github_events import read_github_delivery
from application.resolver.installations import keep_installation_change
from application.resolver.settings import org_policy
from application.webhooks.sources import (
    DeliveryHeaders,
    SignedDelivery,
    WebhookSource,
    hmac_sha256_matches,
    required_header,
)
from domain.resolver.triggers import ResolverPolicy
from domain.shared.errors import InvalidValueError
from domain.webhooks.entities import WebhookDelivery, WebhookSignatureError

__all__ = ("GithubWebhooks",)


@dataclass(frozen=True, slots=True, kw_only=True)
class GithubWebhooks(WebhookSource):
    """A GitHub App's or repository's webhook: signed in ``X-Hub-Signature-256``
    (``sha256=<hex HMAC of the body>``), named by ``X-GitHub-Delivery`` (the same on a
    redelivery) and ``X-GitHub-Event``. Several secrets may be configured while one is
    rotated.

    With a ``policy`` (a GitHub App is configured), processing keeps the app's installations
    in step with installation events, and turns a trigger on an issue or pull request (the
    label added, the handle mentioned in a comment, never by a bot; the label and handle of
    the organization the installation works for, else the policy's) into a job that answers
    it, enqueued with the delivery marked processed; other events are acknowledged."""

    secrets: tuple[str, ...]
    policy: ResolverPolicy | None = None
    name: str = "github"
    max_body_bytes: int = 25 * 1024 * 1024
    """GitHub caps a payload at 25 MB and drops larger ones itself."""

    def verify(self, headers: DeliveryHeaders, body: bytes) -> SignedDelivery:
        scheme, _, signature = headers.get("x-hub-signature-256", "").partition("=")
        if scheme != "sha256" or not hmac_sha256_matches(self.secrets, body, signature):
            raise WebhookSignatureError
        return SignedDelivery(
            delivery_id=required_header(headers, "X-GitHub-Delivery"),
            event=required_header(headers, "X-GitHub-Event"),
        )

    async def process(self, delivery: WebhookDelivery, uow: UnitOfWork) -> str:
        if delivery.event == "ping":
            return "pong"
        if self.policy is None:
            return f"ignored: nothing acts on {delivery.event} events"
        return await self._resolve(delivery, uow, self.policy)

    async def _resolve(
        self, delivery: WebhookDelivery, uow: UnitOfWork, policy: ResolverPolicy
    ) -> str:
        try:
            read = read_github_delivery(delivery.event, delivery.body, delivery.received_at)
        except InvalidValueError as exc:
            return f"ignored: {exc.message}"
        if read.installation_change is not None:
            return await keep_installation_change(uow, read.installation_change)
        event = read.thread_event
        if event is None:
            return f"ignored: nothing acts on {delivery.event} events"
        if read.installation_id is not None:
            installation = await uow.app_installations.get(
                event.thread.provider, read.installation_id
            )
            if installation is not None and installation.org_id is not None:
                policy = await org_policy(uow, installation.org_id, policy)
        kind = policy.trigger_of(event)
        if kind is None:
            return "ignored: no trigger"
        if read.installation_id is None:
            return "ignored: not delivered to an app installation"
        trigger = ResolverTrigger(
            key=delivery.job_key, event=event, kind=kind, installation_id=read.installation_id
        )
        await uow.jobs.enqueue(trigger.job(), delivery.received_at)
        return f"{kind.value} trigger queued"
