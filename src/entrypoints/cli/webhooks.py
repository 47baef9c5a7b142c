"""``maestrist webhooks``: the inbox's deliveries, and dead ones retried or dropped; one JSON
document per line."""

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from dishka import AsyncContainer

from application.webhooks.manage import (
    DeliveryView,
    DropDeadDelivery,
    ListDeliveries,
    ListDeliveriesRequest,
    RetryDeadDelivery,
    ShowDelivery,
)
from entrypoints.cli.jobs import as_line, job_document, time_text

__all__ = ("webhooks_command",)


def delivery_document(view: DeliveryView, *, body: bool = False) -> dict[str, object]:
    delivery = view.delivery
    document: dict[str, object] = {
        "id": str(delivery.id_),
        "source": delivery.source,
        "deliveryId": delivery.delivery_id,
        "event": delivery.event,
        "state": view.state,
        "outcome": delivery.outcome,
        "receivedAt": time_text(delivery.received_at),
        "processedAt": time_text(delivery.processed_at),
        "job": None if view.job is None else job_document(view.job),
    }
    if body:
        document["body"] = delivery.body
    return document


def webhooks_command(
    args: argparse.Namespace,
) -> Callable[[AsyncContainer], Coroutine[Any, Any, list[str]]]:
    """The action ``args`` names, as lines to print."""

    async def run(scope: AsyncContainer) -> list[str]:
        if args.action == "list":
            views = await (await scope.get(ListDeliveries)).execute(
                ListDeliveriesRequest(source=args.source, state=args.state, limit=args.limit)
            )
            return [as_line(delivery_document(view)) for view in views]
        use_case: Any = {
            "show": ShowDelivery,
            "retry": RetryDeadDelivery,
            "drop": DropDeadDelivery,
        }[args.action]
        view = await (await scope.get(use_case)).execute(args.delivery_id)
        return [as_line(delivery_document(view, body=args.action == "show"))]

    return run
