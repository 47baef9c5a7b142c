"""Work that runs after the request that asked for it: retried with backoff, ended in the dead
letter after its last attempt."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.shared.errors import InvalidValueError
from domain.shared.ids import new_id

__all__ = (
    "CLAIM_GRACE",
    "LOST_ERROR",
    "Job",
    "JobId",
    "JobStatus",
    "NewJob",
    "RetryPolicy",
    "error_text",
    "new_job_id",
)

JobId = NewType("JobId", UUID)

_KIND = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
MAX_KIND_LENGTH = 100
MAX_KEY_LENGTH = 200
CLAIM_GRACE = timedelta(seconds=10)
"""How long past its timeout a claimed job stays its worker's: a worker that died leaves the
job to be claimed again this long after its attempt would have timed out."""
LOST_ERROR = "its worker stopped before the attempt ended"
"""The error of an attempt whose worker died (killed, or its machine lost)."""
MAX_ERROR_LENGTH = 2000
"""What a job keeps of the error of its last failed attempt (the head of it)."""


def new_job_id() -> JobId:
    return JobId(new_id())


class JobStatus(StrEnum):
    QUEUED = "queued"
    """Waiting for ``run_at``, or for a worker."""
    RUNNING = "running"
    """Claimed by a worker until ``locked_until``; a worker that died leaves it to be claimed
    again once that has passed."""
    DONE = "done"
    DEAD = "dead"
    """Failed its last attempt (or was lost with its worker that often): kept with its error
    until an operator retries or drops it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often a job is tried and how long each attempt may take. Attempt ``n`` that fails
    is tried again ``backoff * 2**(n-1)`` later, at most ``max_backoff``."""

    max_attempts: int = 5
    timeout: timedelta = timedelta(minutes=5)
    backoff: timedelta = timedelta(seconds=10)
    max_backoff: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 100:
            raise InvalidValueError("A job is tried 1 to 100 times.", field="max_attempts")
        if self.timeout <= timedelta(0):
            raise InvalidValueError("A job's timeout must be positive.", field="timeout")
        if self.backoff < timedelta(0) or self.max_backoff < self.backoff:
            raise InvalidValueError(
                "A job's backoff must be zero or more, and at most its maximum.", field="backoff"
            )

    def delay_after(self, attempt: int) -> timedelta:
        """How long to wait before trying again after failed attempt ``attempt`` (from 1)."""
        if self.backoff == timedelta(0):
            return self.backoff
        # 2**exponent overflows nothing: the exponent stops once the cap is certain.
        exponent = min(max(attempt - 1, 0), 40)
        delay: timedelta = min(self.backoff * (2**exponent), self.max_backoff)
        return delay


@dataclass(frozen=True, slots=True, kw_only=True)
class NewJob:
    """A job to enqueue: ``kind`` names its handler, ``payload`` is JSON, and ``key``, when
    given, makes it once-only: a second job with the same key is not enqueued while the first
    is kept (until finished jobs are pruned)."""

    kind: str
    payload: Mapping[str, object] = field(default_factory=dict)
    key: str | None = None
    run_at: datetime | None = None
    """Not before this instant; None runs it as soon as a worker is free."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    id_: JobId = field(default_factory=new_job_id)

    def __post_init__(self) -> None:
        if len(self.kind) > MAX_KIND_LENGTH or not _KIND.fullmatch(self.kind):
            raise InvalidValueError(
                "A job kind is dotted lowercase words, such as `mail.send`.", field="kind"
            )
        if self.key is not None and not 1 <= len(self.key) <= MAX_KEY_LENGTH:
            raise InvalidValueError(f"A job key is 1 to {MAX_KEY_LENGTH} characters.", field="key")
        if self.run_at is not None and self.run_at.tzinfo is None:
            raise InvalidValueError("A job's start time must carry its time zone.", field="run_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A job as stored. ``attempts`` counts the attempts begun, the running one included; a
    worker finishes a job only while it still holds that attempt."""

    id_: JobId
    kind: str
    payload: Mapping[str, object]
    key: str | None
    status: JobStatus
    attempts: int
    retry: RetryPolicy
    run_at: datetime
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def attempts_left(self) -> int:
        return max(self.retry.max_attempts - self.attempts, 0)


def error_text(error: BaseException) -> str:
    """What a job keeps of an error: its type and message, cut to ``MAX_ERROR_LENGTH``."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:MAX_ERROR_LENGTH]
