from application.jobs.handlers import JobHandler, JobHandlers, PermanentJobError
from application.jobs.manage import (
    DropDeadJob,
    GetQueueDepth,
    ListJobs,
    ListJobsRequest,
    RetryDeadJob,
    ShowJob,
)
from application.jobs.scheduler import JobScheduler, ScheduledJob
from application.jobs.worker import JobWorker

__all__ = (
    "DropDeadJob",
    "GetQueueDepth",
    "JobHandler",
    "JobHandlers",
    "JobScheduler",
    "JobWorker",
    "ListJobs",
    "ListJobsRequest",
    "PermanentJobError",
    "RetryDeadJob",
    "ScheduledJob",
    "ShowJob",
)
