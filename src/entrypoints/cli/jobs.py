"""``maestrist jobs``: what each action does with the queue, and its output, one JSON document
per line, for scripts."""

import argparse
import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from dishka import AsyncContainer

from application.jobs import (
    DropDeadJob,
    GetQueueDepth,
    ListJobs,
    ListJobsRequest,
    RetryDeadJob,
    ShowJob,
)
from domain.jobs.entities import Job, JobStatus

__all__ = ("as_line", "job_document", "jobs_command", "time_text")


def time_text(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def job_document(job: Job, *, payload: bool = False) -> dict[str, object]:
    document: dict[str, object] = {
        "id": str(job.id_),
        "kind": job.kind,
        "status": job.status.value,
        "attempts": job.attempts,
        "maxAttempts": job.retry.max_attempts,
        "key": job.key,
        "runAt": time_text(job.run_at),
        "createdAt": time_text(job.created_at),
        "finishedAt": time_text(job.finished_at),
        "lastError": job.last_error,
    }
    if payload:
        document["payload"] = job.payload
    return document


def as_line(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def jobs_command(
    args: argparse.Namespace,
) -> Callable[[AsyncContainer], Coroutine[Any, Any, list[str]]]:
    """The action ``args`` names, as lines to print."""

    async def run(scope: AsyncContainer) -> list[str]:
        if args.action == "list":
            status = None if args.status is None else JobStatus(args.status)
            jobs = await (await scope.get(ListJobs)).execute(
                ListJobsRequest(status=status, kind=args.kind, limit=args.limit)
            )
            return [as_line(job_document(job)) for job in jobs]
        if args.action == "depth":
            depth = await (await scope.get(GetQueueDepth)).execute()
            return [
                as_line(
                    {
                        "due": depth.due,
                        "scheduled": depth.scheduled,
                        "running": depth.running,
                        "dead": depth.dead,
                        "oldestDueAt": time_text(depth.oldest_due_at),
                    }
                )
            ]
        use_case: Any = {"show": ShowJob, "retry": RetryDeadJob, "drop": DropDeadJob}[args.action]
        job = await (await scope.get(use_case)).execute(args.job_id)
        return [as_line(job_document(job, payload=args.action == "show"))]

    return run
