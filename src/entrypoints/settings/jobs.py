"""Background jobs: where workers run, how many jobs each runs at once, what is kept."""

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.jobs.cron import CronSchedule
from entrypoints.settings.fields import Section, setting
from entrypoints.settings.parsers import boolean, int_in, seconds

__all__ = ("JobSettings",)


def cron(raw: str) -> CronSchedule:
    schedule = CronSchedule.parse(raw)  # its InvalidValueError is a ValueError naming the field
    schedule.next_after(datetime.now(UTC))
    return schedule


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSettings(Section):
    """Workers that run jobs (mail, webhook deliveries, upkeep) after the request."""

    in_serve: bool = setting(
        "MAESTRIST_JOBS_IN_SERVE",
        "Run job workers and the job scheduler inside each `maestrist serve` worker. Set it to "
        "`false` when `maestrist worker` processes run them instead.",
        boolean,
        default=True,
    )
    concurrency: int = setting(
        "MAESTRIST_JOBS_CONCURRENCY",
        "Jobs one process runs at once (1-64).",
        int_in(1, 64),
        default=2,
    )
    poll_interval_s: float = setting(
        "MAESTRIST_JOBS_POLL_INTERVAL",
        "Seconds an idle worker waits before looking for due jobs again (a job enqueued by the "
        "same process wakes it at once).",
        seconds,
        default=1.0,
    )
    keep_done_days: int = setting(
        "MAESTRIST_JOBS_KEEP_DONE_DAYS",
        "Days a finished job is kept (its dedupe key with it) before the hourly upkeep job "
        "deletes it (1-365). Dead jobs are kept until an operator retries or drops them.",
        int_in(1, 365),
        default=7,
    )
    prune_schedule: CronSchedule = setting(
        "MAESTRIST_JOBS_PRUNE_SCHEDULE",
        "When the upkeep job that deletes old finished jobs runs: a cron schedule in UTC (five "
        "fields, or six with seconds first), fired once per tick across all servers.",
        cron,
        shown="`17 * * * *`",
        default=CronSchedule.parse("17 * * * *"),
    )
