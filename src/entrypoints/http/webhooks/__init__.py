from entrypoints.http.webhooks.controller import WebhookController

__all__ = ("WebhookController",)
