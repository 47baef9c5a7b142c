"""The webhook inbox: the sources configured, and the use cases that take deliveries in and
process them."""

from dishka import Provider, Scope, provide

from application.billing import Fulfillment, StripeWebhooks
from application.ports.clock import Clock
from application.resolver.bitbucket_webhooks import BitbucketWebhooks
from application.resolver.github_webhooks import GithubWebhooks
from application.resolver.gitlab_webhooks import GitlabWebhooks
from application.webhooks import (
    AcceptWebhook,
    ProcessWebhookDelivery,
    SweepWebhookInbox,
    WebhookSource,
    WebhookSources,
)
from application.webhooks.manage import (
    DropDeadDelivery,
    ListDeliveries,
    RetryDeadDelivery,
    ShowDelivery,
)
from entrypoints.ioc.resolver import resolver_policy
from entrypoints.settings import Settings

__all__ = ("WebhooksProvider",)


class WebhooksProvider(Provider):
    scope = Scope.REQUEST
    accept = provide(AcceptWebhook)
    process = provide(ProcessWebhookDelivery)
    sweep = provide(SweepWebhookInbox)
    list_deliveries = provide(ListDeliveries)
    show_delivery = provide(ShowDelivery)
    retry_delivery = provide(RetryDeadDelivery)
    drop_delivery = provide(DropDeadDelivery)

    @provide(scope=Scope.APP)
    def sources(self, settings: Settings, clock: Clock, fulfillment: Fulfillment) -> WebhookSources:
        configured: list[WebhookSource] = [
            GitlabWebhooks(policy=resolver_policy(settings)),
            BitbucketWebhooks(policy=resolver_policy(settings)),
        ]
        if settings.webhooks.github_secrets:
            policy = resolver_policy(settings) if settings.resolver.github_app_enabled else None
            configured.append(
                GithubWebhooks(secrets=settings.webhooks.github_secrets, policy=policy)
            )
        if settings.billing.stripe_webhook_secrets and settings.billing.enabled:
            configured.append(
                StripeWebhooks(
                    secrets=settings.billing.stripe_webhook_secrets,
                    clock=clock,
                    fulfillment=fulfillment,
                )
            )
        return {source.name: source for source in configured}
