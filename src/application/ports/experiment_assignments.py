from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from domain.conversations.value_objects import ConversationId
from domain.experiments.assignments import ExperimentAssignment

__all__ = ("ExperimentAssignments",)


class ExperimentAssignments(Protocol):
    """The variant of each experiment each conversation runs with, at most one per
    (conversation, experiment). Transactional: the unit of work commits."""

    @abstractmethod
    async def add(self, assignments: Sequence[ExperimentAssignment]) -> None:
        """Keep each assignment unless its conversation has one for that experiment already:
        the one kept first wins, a racing transaction's included."""

    @abstractmethod
    async def of_conversation(self, conversation_id: ConversationId) -> dict[str, str]:
        """The conversation's variants by experiment; empty when it has none."""
