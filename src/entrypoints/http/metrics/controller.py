from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Request, Response, get

from application.metrics import ExposeMetrics, ExposeMetricsRequest
from domain.identity.principals import Credentials
from entrypoints.http.decoding import screen_request

__all__ = ("METRICS_PATH", "MetricsController")

METRICS_PATH = "/metrics"


class MetricsController(Controller):
    """Prometheus' scrape target, behind its own bearer token; out of the API reference and
    of the rate limits (the hook screens the request and counts nothing)."""

    path = METRICS_PATH
    include_in_schema = False

    @get(cache=False, before_request=screen_request)
    @inject
    async def scrape(
        self,
        request: Request,  # type: ignore[type-arg]
        use_case: FromDishka[ExposeMetrics],
    ) -> Response[bytes]:
        credentials = Credentials(authorization=request.headers.get("authorization"))
        exposition = await use_case.execute(ExposeMetricsRequest(credentials=credentials))
        return Response(exposition.body, media_type=exposition.content_type)
