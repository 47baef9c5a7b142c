from collections.abc import Sequence

from application.ports.experiment_assignments import ExperimentAssignments
from domain.conversations.value_objects import ConversationId
from domain.experiments.assignments import ExperimentAssignment
from tests.fakes.job_queue import RowLocks
from tests.fakes.store import FakeStore

__all__ = ("FakeExperimentAssignments",)


class FakeExperimentAssignments(ExperimentAssignments):
    """Assignments over the ``FakeStore``'s ``experiments`` table, keyed as the SQL primary
    key is; a key another open transaction wrote is waited for, as the key makes SQL wait."""

    def __init__(self, store: FakeStore, locks: RowLocks) -> None:
        self._store = store
        self._locks = locks

    async def add(self, assignments: Sequence[ExperimentAssignment]) -> None:
        for assignment in assignments:
            key = (assignment.conversation_id, assignment.experiment)
            await self._locks.hold(("experiment", *key))
            self._store.live.experiments.setdefault(key, assignment)

    async def of_conversation(self, conversation_id: ConversationId) -> dict[str, str]:
        return {
            experiment: kept.variant
            for (owner, experiment), kept in self._store.live.experiments.items()
            if owner == conversation_id
        }
