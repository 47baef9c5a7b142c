from application.webhooks.accept_webhook import (
    PROCESS_DELIVERY,
    AcceptWebhook,
    AcceptWebhookRequest,
    AcceptWebhookResult,
)
from application.webhooks.process_delivery import (
    SWEEP_INBOX,
    ProcessWebhookDelivery,
    SweepWebhookInbox,
)
from application.webhooks.sources import WebhookSource, WebhookSources

__all__ = (
    "PROCESS_DELIVERY",
    "SWEEP_INBOX",
    "AcceptWebhook",
    "AcceptWebhookRequest",
    "AcceptWebhookResult",
    "ProcessWebhookDelivery",
    "SweepWebhookInbox",
    "WebhookSource",
    "WebhookSources",
)
