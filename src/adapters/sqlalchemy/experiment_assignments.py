from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.inserts import dialect_insert
from adapters.sqlalchemy.models import ConversationExperimentRow
from application.ports.experiment_assignments import ExperimentAssignments
from domain.conversations.value_objects import ConversationId
from domain.experiments.assignments import ExperimentAssignment

__all__ = ("SqlaExperimentAssignments",)


class SqlaExperimentAssignments(ExperimentAssignments):
    """``conversation_experiments``, keyed by (conversation, experiment): an assignment is
    inserted with ``ON CONFLICT DO NOTHING``, so a racing one waits for the first and keeps
    it."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, assignments: Sequence[ExperimentAssignment]) -> None:
        if not assignments:
            return
        insert = (
            dialect_insert(self._session, ConversationExperimentRow)
            .values(
                [
                    {
                        "conversation_id": a.conversation_id,
                        "experiment": a.experiment,
                        "variant": a.variant,
                        "assigned_at": a.assigned_at,
                    }
                    for a in assignments
                ]
            )
            .on_conflict_do_nothing(index_elements=["conversation_id", "experiment"])
        )
        async with translate_db_errors():
            await self._session.execute(insert)

    async def of_conversation(self, conversation_id: ConversationId) -> dict[str, str]:
        query = select(
            ConversationExperimentRow.experiment, ConversationExperimentRow.variant
        ).where(ConversationExperimentRow.conversation_id == conversation_id)
        async with translate_db_errors():
            rows = (await self._session.execute(query)).tuples().all()
        return dict(rows)
