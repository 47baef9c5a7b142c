"""``maestrist billing``'s arguments, apart from what runs it so that parsing loads no
application code."""

import argparse
from uuid import UUID

from domain.billing.ledger import parse_amount
from domain.organizations.entities import OrgId
from domain.shared.errors import InvalidValueError

__all__ = ("add_billing_commands",)


def _org_id(raw: str) -> OrgId:
    try:
        return OrgId(UUID(raw))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an organization id (a UUID), got {raw!r}"
        ) from None


def _amount(raw: str) -> int:
    """A signed, non-zero amount of currency (``25.00``, ``-3.5``) in micro-units."""
    try:
        return parse_amount(raw, signed=True, nonzero=True)
    except InvalidValueError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_billing_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    billing = commands.add_parser(
        "billing", help="an organization's balance and ledger; adjust it by hand"
    )
    actions = billing.add_subparsers(dest="action", required=True)
    balance = actions.add_parser(
        "balance", help="the balance, then the latest entries, newest first, as JSON lines"
    )
    balance.add_argument("org_id", type=_org_id, metavar="ORG")
    balance.add_argument("--limit", type=int, default=20, help="entries shown (default 20)")
    adjust = actions.add_parser(
        "adjust",
        help="credit (or, negative, debit) an organization's balance, with a reason; a credit "
        "resumes conversations paused for lack of funds",
    )
    adjust.add_argument("org_id", type=_org_id, metavar="ORG")
    adjust.add_argument("amount", type=_amount, metavar="AMOUNT", help="e.g. 25.00 or -3.50")
    adjust.add_argument("reason", metavar="REASON", help="why, kept with the entry")
    adjust.add_argument(
        "--key",
        default=None,
        help="once per key: repeating the command with the same key changes nothing",
    )
