"""``maestrist billing``: an organization's balance and latest entries, and an operator's
adjustments of it; one JSON document per line."""

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from dishka import AsyncContainer

from application.billing import (
    AdjustBalance,
    AdjustBalanceRequest,
    ShowBalance,
)
from domain.billing.ledger import LedgerEntry, micros_text
from entrypoints.cli.jobs import as_line, time_text

__all__ = ("billing_command",)


def _entry(entry: LedgerEntry) -> dict[str, object]:
    return {
        "id": str(entry.id_),
        "kind": entry.kind.value,
        "amount": micros_text(entry.amount_micros),
        "source": entry.source,
        "sourceId": entry.source_id,
        "createdAt": time_text(entry.created_at),
        "userId": None if entry.user_id is None else str(entry.user_id),
        "conversationId": None if entry.conversation_id is None else str(entry.conversation_id),
        "model": entry.model,
        "description": entry.description,
    }


def billing_command(
    args: argparse.Namespace,
) -> Callable[[AsyncContainer], Coroutine[Any, Any, list[str]]]:
    """The action ``args`` names, as lines to print."""

    async def run(scope: AsyncContainer) -> list[str]:
        if args.action == "balance":
            shown = await (await scope.get(ShowBalance)).execute(args.org_id, args.limit)
            head = {"orgId": str(args.org_id), "balance": micros_text(shown.balance_micros)}
            return [as_line(head), *(as_line(_entry(e)) for e in shown.entries)]
        done = await (await scope.get(AdjustBalance)).execute(
            AdjustBalanceRequest(
                org_id=args.org_id,
                amount_micros=args.amount,
                reason=args.reason,
                key=args.key,
            )
        )
        return [
            as_line(
                {
                    "recorded": done.recorded,
                    "balance": micros_text(done.balance_micros),
                    "entry": _entry(done.entry),
                }
            )
        ]

    return run
