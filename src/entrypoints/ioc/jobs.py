"""Background jobs: the handler of each kind, the workers and the scheduler."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from dishka import AsyncContainer, Provider, Scope, provide

from application.billing import RESUME_HELD_JOB
from application.conversations import ResumeHeldConversation
from application.jobs import (
    DropDeadJob,
    GetQueueDepth,
    JobHandler,
    JobHandlers,
    JobScheduler,
    JobWorker,
    ListJobs,
    RetryDeadJob,
    ScheduledJob,
    ShowJob,
)
from application.jobs.upkeep import PRUNE_JOBS, PruneFinishedJobs
from application.mail import MAIL_SEND, SendMail
from application.ports.clock import Clock
from application.ports.metrics import Metrics
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from application.resolver import (
    ANSWER_TRIGGER,
    INSTALL_HOOK,
    POST_SUMMARY,
    REMOVE_HOOK,
    AnswerTrigger,
    InstallRepositoryHook,
    PostResolverSummary,
    RemoveRepositoryHook,
)
from application.webhooks import (
    PROCESS_DELIVERY,
    SWEEP_INBOX,
    ProcessWebhookDelivery,
    SweepWebhookInbox,
)
from domain.jobs.cron import CronSchedule
from domain.jobs.entities import RetryPolicy
from entrypoints.settings import Settings

__all__ = ("JOB_HANDLERS", "JobsProvider", "schedules", "start_jobs", "stop_jobs")

JOB_HANDLERS: dict[str, type[JobHandler]] = {
    PRUNE_JOBS: PruneFinishedJobs,
    MAIL_SEND: SendMail,
    PROCESS_DELIVERY: ProcessWebhookDelivery,
    SWEEP_INBOX: SweepWebhookInbox,
    RESUME_HELD_JOB: ResumeHeldConversation,
    ANSWER_TRIGGER: AnswerTrigger,
    POST_SUMMARY: PostResolverSummary,
    INSTALL_HOOK: InstallRepositoryHook,
    REMOVE_HOOK: RemoveRepositoryHook,
}
"""The handler class of each job kind, resolved in a request scope of its own per attempt."""


def schedules(settings: Settings) -> list[ScheduledJob]:
    """The scheduled jobs every server fires (each tick once across them all)."""
    return [
        ScheduledJob(
            name=PRUNE_JOBS,
            cron=settings.jobs.prune_schedule,
            kind=PRUNE_JOBS,
            retry=RetryPolicy(max_attempts=3, timeout=timedelta(minutes=10)),
        ),
        ScheduledJob(
            name=SWEEP_INBOX,
            cron=CronSchedule.parse("* * * * *"),
            kind=SWEEP_INBOX,
            retry=RetryPolicy(max_attempts=1, timeout=timedelta(minutes=1)),
        ),
    ]


class JobsProvider(Provider):
    scope = Scope.REQUEST
    list_jobs = provide(ListJobs)
    show_job = provide(ShowJob)
    retry_dead_job = provide(RetryDeadJob)
    drop_dead_job = provide(DropDeadJob)
    get_queue_depth = provide(GetQueueDepth)

    @provide(scope=Scope.REQUEST)
    def prune(self, uow: UnitOfWork, clock: Clock, settings: Settings) -> PruneFinishedJobs:
        return PruneFinishedJobs(uow, clock, timedelta(days=settings.jobs.keep_done_days))

    @provide(scope=Scope.APP)
    def handlers(self, container: AsyncContainer) -> JobHandlers:
        def opener(kind: type[JobHandler]) -> Callable[[], AbstractAsyncContextManager[JobHandler]]:
            @asynccontextmanager
            async def opened() -> AsyncIterator[JobHandler]:
                async with container() as request:
                    yield await request.get(kind)

            return opened

        return {name: opener(kind) for name, kind in JOB_HANDLERS.items()}

    @provide(scope=Scope.APP)
    def worker(
        self,
        units: UnitsOfWork,
        clock: Clock,
        handlers: JobHandlers,
        metrics: Metrics,
        settings: Settings,
    ) -> JobWorker:
        return JobWorker(
            units,
            clock,
            handlers,
            metrics=metrics,
            concurrency=settings.jobs.concurrency,
            poll_s=settings.jobs.poll_interval_s,
        )

    @provide(scope=Scope.APP)
    def scheduler(
        self,
        units: UnitsOfWork,
        clock: Clock,
        worker: JobWorker,
        metrics: Metrics,
        settings: Settings,
    ) -> JobScheduler:
        return JobScheduler(
            units, clock, schedules(settings), metrics=metrics, enqueued=worker.wake
        )


async def start_jobs(container: AsyncContainer) -> None:
    """Run this process's job workers and scheduler in the background."""
    (await container.get(JobWorker)).start()
    (await container.get(JobScheduler)).start()


async def stop_jobs(container: AsyncContainer) -> None:
    """Stop them; a job being run goes back to the queue, due at once."""
    await (await container.get(JobScheduler)).stop()
    await (await container.get(JobWorker)).stop()
