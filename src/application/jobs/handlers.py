"""What runs a job: one handler per kind, made afresh for each attempt."""

from abc import abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from domain.jobs.entities import Job

__all__ = ("JobHandler", "JobHandlers", "PermanentJobError")


class PermanentJobError(Exception):
    """The job can never succeed (its payload is wrong, what it acts on is gone): it ends dead
    at once with this error instead of being tried again."""


class JobHandler(Protocol):
    @abstractmethod
    async def handle(self, job: Job) -> None:
        """Do the job's work; safe to run again for the same job (an attempt whose worker died
        is run again). Raising fails the attempt."""


JobHandlers = Mapping[str, Callable[[], AbstractAsyncContextManager[JobHandler]]]
"""The handler of each kind, opened for one attempt (its dependencies live as long)."""
