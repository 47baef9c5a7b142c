"""The rate limits of the HTTP edge, from the settings, over the binding's ``RateLimiter``."""

from dishka import Provider, Scope, provide

from application.ports.rate_limiter import RatePolicy
from application.rate_limits import Limit, RateLimitCounters, Throttle
from entrypoints.http.client_address import TrustedProxies
from entrypoints.http.rate_limits import HttpRateLimits
from entrypoints.settings import Settings
from entrypoints.settings.rate_limits import FailureMode, RateLimitSettings, Rates

__all__ = ("RateLimitProvider", "http_rate_limits")


def _limit(name: str, rates: Rates | None, mode: FailureMode) -> Limit | None:
    if rates is None:
        return None
    return Limit(
        policy=RatePolicy(name=name, rates=rates.rates), fail_open=mode is FailureMode.OPEN
    )


def http_rate_limits(
    settings: RateLimitSettings, throttle: Throttle, proxies: TrustedProxies
) -> HttpRateLimits:
    """The limits ``settings`` turn on (none when they are switched off)."""
    if not settings.enabled:
        return HttpRateLimits(throttle=throttle, proxies=proxies)
    mode = settings.on_failure
    return HttpRateLimits(
        throttle=throttle,
        proxies=proxies,
        per_ip=_limit("ip", settings.per_ip, mode),
        sign_in_per_ip=_limit("sign-in", settings.sign_in_per_ip, mode),
        webhooks_per_ip=_limit("webhooks", settings.webhooks_per_ip, mode),
        per_user=_limit("user", settings.per_user, mode),
        per_api_key=_limit("api-key", settings.per_api_key, mode),
        per_org=_limit("org", settings.per_org, mode),
        costly=_limit("costly", settings.costly_per_user, settings.costly_on_failure),
        costs=settings.costs,
        socket_connects=_limit("socket-connects", settings.socket_connects_per_ip, mode),
    )


class RateLimitProvider(Provider):
    """What each caller may cost, counted by the binding's ``RateLimiter``."""

    scope = Scope.APP

    counters = provide(RateLimitCounters)
    throttle = provide(Throttle)

    @provide
    def limits(
        self, settings: Settings, throttle: Throttle, proxies: TrustedProxies
    ) -> HttpRateLimits:
        return http_rate_limits(settings.rate_limits, throttle, proxies)
