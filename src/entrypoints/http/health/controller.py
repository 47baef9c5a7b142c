from inspect import getdoc

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec

from application.health.check_readiness import CheckReadiness, CheckReadinessRequest
from entrypoints.http.health.schemas import Liveness, Readiness

__all__ = ("LIVENESS_PATH", "HealthController")

LIVENESS_PATH = "/health/live"
"""Served without a request scope: it touches no dependency."""


class HealthController(Controller):
    path = "/health"
    tags = ["health"]  # noqa: RUF012

    @get(LIVENESS_PATH.removeprefix("/health"), operation_id="CheckLiveness", cache=False)
    async def live(self) -> Liveness:
        """The process answers. Public; touches no dependency."""
        return Liveness()

    @get(
        "/ready",
        operation_id="CheckReadiness",
        description=getdoc(CheckReadiness),
        cache=False,
        responses={
            503: ResponseSpec(
                Readiness, description="Not ready: the report names the dependency that is down."
            )
        },
    )
    @inject
    async def ready(self, use_case: FromDishka[CheckReadiness]) -> Response[Readiness]:
        report = await use_case.execute(CheckReadinessRequest())
        return Response(Readiness.from_report(report), status_code=200 if report.ready else 503)
