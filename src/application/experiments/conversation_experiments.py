from collections.abc import Mapping, Sequence

from application.analytics import ProductAnalytics
from application.ports.clock import Clock
from application.ports.feature_flags import FeatureFlags
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation
from domain.experiments.assignments import Experiment, ExperimentAssignment, check_key

__all__ = ("ConversationExperiments",)


class ConversationExperiments:
    """The variants a conversation runs with, one per configured experiment.

    A variant is chosen per person, not per conversation: the experiment's feature flag
    evaluated for the conversation's owner (in process, from polled definitions), or the
    experiment's default when the flag gives none. It is kept with the conversation in the
    caller's unit of work, unique per (conversation, experiment), and from then on the kept
    one wins: on resume, after a restart, and when the flag has changed since."""

    def __init__(
        self,
        experiments: Sequence[Experiment],
        flags: FeatureFlags,
        analytics: ProductAnalytics,
        clock: Clock,
    ) -> None:
        self._experiments = tuple(experiments)
        self._flags = flags
        self._analytics = analytics
        self._clock = clock

    async def start(self, uow: UnitOfWork, conversation: Conversation) -> Mapping[str, str]:
        """For a conversation being started, in its first unit of work (the caller commits):
        its variants assigned and kept, and ``conversation_started`` reported with them once
        the caller commits (a start whose commit fails is never reported)."""
        variants = await self.assign(uow, conversation)
        await self._analytics.conversation_started(uow, conversation, variants)
        return variants

    async def assign(self, uow: UnitOfWork, conversation: Conversation) -> dict[str, str]:
        """The conversation's variants: the kept ones, and for an experiment it has none of
        (one configured since it started) a variant chosen now and kept. With no experiment
        configured, none (and nothing is read)."""
        if not self._experiments:
            return {}
        kept = await uow.experiments.of_conversation(conversation.id_)
        missing = [e for e in self._experiments if e.name not in kept]
        if not missing:
            return kept
        now = self._clock.now()
        await uow.experiments.add(
            [
                ExperimentAssignment(
                    conversation_id=conversation.id_,
                    experiment=experiment.name,
                    variant=self._variant(experiment, conversation),
                    assigned_at=now,
                )
                for experiment in missing
            ]
        )
        return await uow.experiments.of_conversation(conversation.id_)

    def _variant(self, experiment: Experiment, conversation: Conversation) -> str:
        chosen = self._flags.variant(experiment.name, conversation.tenant.user_id)
        if chosen is None:
            return experiment.default
        try:
            return check_key(chosen, "A variant")
        except ValueError:
            return experiment.default
