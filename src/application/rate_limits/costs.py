from dataclasses import dataclass
from enum import StrEnum

__all__ = ("CostlyAction", "Costs")


class CostlyAction(StrEnum):
    """Actions that each take a cost of their own from the person's costly budget."""

    START_CONVERSATION = "start_conversation"
    SEND_MESSAGE = "send_message"
    CHECKOUT = "checkout"


@dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    """What each costly action takes from the person's costly budget."""

    start_conversation: int = 10
    send_message: int = 1
    checkout: int = 10

    def of(self, action: CostlyAction) -> int:
        cost: int = getattr(self, action.value)
        return cost

    def items(self) -> tuple[tuple[CostlyAction, int], ...]:
        return tuple((action, self.of(action)) for action in CostlyAction)

    def __str__(self) -> str:
        return ",".join(f"{action.value}={cost}" for action, cost in self.items())
