from abc import abstractmethod
from typing import Protocol

__all__ = ("SealedRecords",)


class SealedRecords(Protocol):
    """Every stored value the cipher sealed (session and provider tokens, LLM API keys, MCP
    configurations, custom secrets).

    Transactional: the unit of work commits.
    """

    @abstractmethod
    async def reseal_batch(self, limit: int) -> int:
        """Reseal with the current key up to ``limit`` records that another key sealed; how
        many were resealed (0 when every record is on the current key)."""
