import hmac
import logging
from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError, NotAuthenticatedError
from application.ports.clock import Clock
from application.ports.metrics import Exposition, Metrics, MetricsExposition
from application.ports.unit_of_work import UnitOfWork
from domain.identity.principals import Credentials

__all__ = ("ExposeMetrics", "ExposeMetricsRequest", "MetricsAccess")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsAccess:
    token: str = field(repr=False)
    """The bearer token a scraper presents."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposeMetricsRequest:
    credentials: Credentials


class ExposeMetrics:
    """The server's metrics, for a scraper holding the metrics token (compared in constant
    time); anyone else is refused as not authenticated. Before it answers, it reads how many
    conversations are in each unfinished status and how deep the job queue is from the
    database, so each scrape sees them fresh; while the database does not answer, they keep
    their last reading and the rest is answered all the same."""

    def __init__(
        self,
        access: MetricsAccess,
        uow: UnitOfWork,
        clock: Clock,
        metrics: Metrics,
        exposition: MetricsExposition,
    ) -> None:
        self._access = access
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self._exposition = exposition

    async def execute(self, request: ExposeMetricsRequest) -> Exposition:
        presented = (request.credentials.bearer or "").encode()
        if not hmac.compare_digest(presented, self._access.token.encode()):
            raise NotAuthenticatedError("Send the metrics token as a bearer credential.")
        try:
            by_status = await self._uow.conversations.count_unfinished()
            depth = await self._uow.jobs.depth(self._clock.now())
        except DependencyUnavailableError as exc:
            _log.warning("metrics read no conversations or job queue: %s", exc.message)
        else:
            self._metrics.observe_conversations(by_status)
            self._metrics.observe_queue(depth)
        return self._exposition.render()
