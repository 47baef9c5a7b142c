"""The webhook inbox: the sources configured, and the use cases that take deliveries in and
process them."""

from dishka import Provider, Scope, provide

from application.webhooks import (
    AcceptWebhook,
    GithubWebhooks,
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
    def sources(self, settings: Settings) -> WebhookSources:
        configured: list[WebhookSource] = []
        if settings.webhooks.github_secrets:
            policy = resolver_policy(settings) if settings.resolver.github_app_enabled else None
            configured.append(
                GithubWebhooks(secrets=settings.webhooks.github_secrets, policy=policy)
            )
        return {source.name: source for source in configured}
