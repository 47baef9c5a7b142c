from inspect import getdoc
from typing import Any

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, MediaType, Request, post
from litestar.params import FromPath

from application.webhooks import AcceptWebhook, AcceptWebhookRequest
from entrypoints.http.openapi import problem_spec

__all__ = ("WebhookController",)

MAX_DELIVERY_BYTES = 25 * 1024 * 1024
"""The largest delivery any source sends (GitHub's 25 MB); a source may allow less."""


_PROBLEMS = {
    401: "The signature is missing or not made with a secret this server holds.",
    404: "No webhook of this source is configured here.",
    413: "The delivery is larger than any source sends (25 MiB).",
    422: "A header that names the delivery or its event is missing or invalid; `errors` names it.",
    503: "The database is unavailable; the provider delivers again later.",
}


class WebhookController(Controller):
    """Deliveries from the providers' webhooks. No credential: each source signs its
    deliveries, and one whose signature fails is refused with 401 and nothing else."""

    path = "/api/webhooks"
    tags = ["Webhooks"]  # noqa: RUF012 - Litestar's own attribute

    @post(
        "/{source:str}",
        operation_id="DeliverWebhook",
        description=getdoc(AcceptWebhook),
        status_code=202,
        request_max_body_size=MAX_DELIVERY_BYTES,
        media_type=MediaType.TEXT,  # so that no return value is an empty body, not `null`
        responses={
            **{status: problem_spec(status, why) for status, why in _PROBLEMS.items()},
        },
    )
    @inject
    async def deliver(
        self,
        request: Request[Any, Any, Any],
        source: FromPath[str],
        use_case: FromDishka[AcceptWebhook],
    ) -> None:
        """202, no body, for a delivery taken in now or before (then nothing more is done)."""
        await use_case.execute(
            AcceptWebhookRequest(
                source=source,
                headers={name.lower(): value for name, value in request.headers.items()},
                body=await request.body(),
            )
        )
