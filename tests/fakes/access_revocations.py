from collections.abc import Sequence

from adapters.memory import InProcessAccessRevocations
from application.ports.access_revocations import Revocation

__all__ = ("FakeAccessRevocations",)


class FakeAccessRevocations(InProcessAccessRevocations):
    """The in-process adapter, remembering every announcement."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Revocation] = []

    async def publish(self, revocations: Sequence[Revocation]) -> None:
        self.published.extend(revocations)
        await super().publish(revocations)
